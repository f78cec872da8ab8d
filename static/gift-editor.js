/* Quiz editor: check the GIFT text as the trainer types and list its errors under the textarea.
   Without JavaScript the page still works: the errors then show when the text is saved. */
(function () {
  "use strict";

  var form = document.getElementById("gift-editor");
  if (!form || !window.fetch || !window.JSON) { return; }
  var area = form.querySelector("textarea[name=source]");
  var box = document.getElementById("gift-errors");
  var token = form.querySelector("input[name=csrf_token]");
  var url = form.getAttribute("data-check-url");
  var DELAY = 700;
  var timer = null;
  var latest = 0;

  function text(tag, className, content) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    el.textContent = content;
    return el;
  }

  // Put the cursor where an error is, so the trainer does not have to count lines.
  function jump(line, column) {
    var lines = area.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { offset += lines[i].length + 1; }
    area.focus();
    area.setSelectionRange(offset + column - 1, offset + column - 1);
  }

  function show(errors) {
    box.textContent = "";
    if (!errors.length) {
      box.appendChild(text("p", "gift-ok", form.getAttribute("data-msg-ok")));
      return;
    }
    var wrap = text("div", "form-errors", "");
    wrap.appendChild(text("p", "", form.getAttribute("data-msg-errors")));
    var list = document.createElement("ul");
    errors.forEach(function (e) {
      var item = document.createElement("li");
      var button = text("button", "link", e.text);
      button.type = "button";
      button.addEventListener("click", function () { jump(e.line, e.column); });
      item.appendChild(button);
      list.appendChild(item);
    });
    wrap.appendChild(list);
    box.appendChild(wrap);
  }

  function check() {
    var mine = ++latest;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": token.value
      },
      body: JSON.stringify({ source: area.value })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && mine === latest) { show(data.errors || []); }  // an older reply is stale
    }).catch(function () { /* offline: the check runs again on save */ });
  }

  area.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, DELAY);
  });
})();
