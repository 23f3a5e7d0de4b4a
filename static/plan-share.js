// The annual plan form: the sum of the ticked scenes' amounts and its share of the
// goods-procurement budget, shown as the unit types (the policy asks for at least 30%).
(function () {
  var form = document.getElementById("plan-form");
  if (!form) { return; }
  var minimum = parseFloat(form.dataset.share);
  var out = document.getElementById("plan-share");
  var budget = document.getElementById("procurement_budget");
  function number(text) {
    var value = parseFloat(String(text || "").replace(/,/g, ""));
    return isFinite(value) && value > 0 ? value : 0;
  }
  function update() {
    var total = 0;
    form.querySelectorAll(".plan-amount").forEach(function (input) {
      var box = document.getElementById("pick-" + input.dataset.scene);
      if (box && box.checked) { total += number(input.value); }
    });
    var base = number(budget.value);
    if (!base) {
      out.textContent = "场景建设金额合计 " + total.toFixed(2) + " 万元；请填写货物类采购资金以计算占比。";
      return;
    }
    var share = total / base;
    var need = base * minimum;
    out.textContent = "场景建设金额合计 " + total.toFixed(2) + " 万元，占货物类采购资金的 " +
      (share * 100).toFixed(2) + "%" + (share + 1e-9 >= minimum
        ? "，已达到30%的要求。"
        : "，低于30%：至少还需 " + (need - total).toFixed(2) + " 万元。") +
      (total > base ? " 合计超过了货物类采购资金。" : "");
    out.classList.toggle("check-warning", share + 1e-9 < minimum || total > base);
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
