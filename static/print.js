// Print buttons on agendas and table cards (inline handlers are barred by the CSP).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
