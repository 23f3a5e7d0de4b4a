// A "select all" box (data-select-all="NAME") ticks or clears every box of that
// name in its form (inline handlers are barred by the CSP).
document.querySelectorAll("[data-select-all]").forEach(function (box) {
  box.addEventListener("change", function () {
    var name = box.getAttribute("data-select-all");
    box.form.querySelectorAll('input[type=checkbox][name="' + name + '"]')
      .forEach(function (other) { other.checked = box.checked; });
  });
});
