// Conveniences only: every page works without this file.
"use strict";
(function () {
  var status = document.getElementById("live-status");
  var result = document.getElementById("result");
  // Live results: the server sends each new count as the same HTML the page was rendered with.
  if (result && result.dataset.events && window.EventSource && !result.querySelector("[data-final=true]")) {
    var es = new EventSource(result.dataset.events);
    es.addEventListener("result", function (ev) {
      result.innerHTML = ev.data;
      result.dataset.updated = String(Date.now());
      var final = result.querySelector("[data-final=true]");
      if (status) status.textContent = final ? "The count is final." : "Live: updated " + new Date().toLocaleTimeString() + ".";
      if (final) es.close();
    });
    es.addEventListener("failed", function (ev) {
      if (status) status.textContent = ev.data;
    });
    if (status) status.textContent = "Live: this page updates as ballots are counted.";
  }

  // Voter roll: send the chosen file in slices so the progress bar follows the upload.
  var rollForm = document.querySelector("form[data-roll-form]");
  if (rollForm) {
    rollForm.addEventListener("submit", function (ev) {
      var input = rollForm.querySelector("[data-roll-file]");
      var file = input && input.files && input.files[0];
      if (!file) return;
      ev.preventDefault();
      var bar = document.getElementById("roll-progress");
      var say = document.getElementById("roll-status");
      var token = rollForm.querySelector("input[name=_csrf]").value;
      bar.hidden = false;
      file.text().then(function (text) {
        var lines = text.split(/\r?\n/);
        var size = 2000;
        var done = 0;
        var added = 0;
        function next() {
          if (done >= lines.length) {
            say.textContent = "Done: " + added + " usernames added.";
            window.location.reload();
            return;
          }
          var slice = lines.slice(done, done + size).join("\n");
          var body = new URLSearchParams({ _csrf: token, csv: slice.trim() === "" ? "#" : slice });
          fetch(rollForm.action, { method: "POST", body: body, headers: { accept: "application/json" }, credentials: "same-origin" })
            .then(function (r) {
              return r.json().then(function (j) {
                if (!r.ok) throw new Error(j.error || "the upload failed");
                return j;
              });
            })
            .then(function (j) {
              added += j.added;
              done += size;
              bar.value = Math.min(100, Math.round((100 * done) / lines.length));
              say.textContent = bar.value + "%: " + added + " added, the roll holds " + j.rollSize + ".";
              next();
            })
            .catch(function (err) {
              say.textContent = "Stopped: " + err.message;
            });
        }
        next();
      });
    });
  }

  // Verify: read the chosen receipt file into the text box the form sends.
  var receiptFile = document.querySelector("[data-receipt-file]");
  if (receiptFile) {
    receiptFile.addEventListener("change", function () {
      var f = receiptFile.files && receiptFile.files[0];
      if (f) f.text().then(function (t) { document.getElementById("receipt").value = t; });
    });
  }
})();
