// "Copy the text" buttons: shown only where this script runs; the text box works without it.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var box = document.getElementById(button.dataset.copy);
  if (!box) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    box.select();
    var done = function () { button.textContent = button.dataset.copied; };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(box.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
});
