// Irreversible actions ask first: a form with data-confirm submits only when the
// person agrees to its question (inline handlers are barred by the CSP).
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
