// Irreversible actions ask first: a form with data-confirm submits only when the
// person agrees to its question (inline handlers are barred by the CSP); a button
// with data-confirm asks its own question (one form, several actions).
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question =
    (button && button.getAttribute("data-confirm")) ||
    event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
