/* StatusCore public status page: shows times in the visitor's time zone (named) and keeps the page
   fresh by fetching it again every N seconds (data-refresh, or ?refresh=N with 5 <= N <= 3600)
   and swapping in the parts marked data-part. Only this page's own address is fetched. */
(function () {
  "use strict";

  var main = document.getElementById("status");
  if (!main || !window.fetch || !window.DOMParser) {
    return; // the <noscript> meta refresh covers browsers without scripts
  }

  var seconds = parseInt(main.getAttribute("data-refresh"), 10) || 30;
  var asked = /[?&]refresh=(\d{1,4})(?:&|$)/.exec(window.location.search);
  if (asked) {
    seconds = Math.min(3600, Math.max(5, parseInt(asked[1], 10)));
  }
  var every = document.getElementById("refresh-every");
  if (every) {
    every.textContent = String(seconds);
  }
  var errorLine = document.getElementById("refresh-error");
  var timer = null;
  var busy = false;
  var served = {}; // part id -> the HTML the server sent for it last

  function localize(root) {
    var times = root.querySelectorAll("time[data-local]");
    for (var i = 0; i < times.length; i++) {
      var when = new Date(times[i].getAttribute("datetime"));
      if (isNaN(when.getTime())) {
        continue;
      }
      times[i].title = times[i].getAttribute("datetime"); // the exact UTC time on hover
      try {
        // The visitor's own zone, named ("15 Jan 2024, 11:30 CET"): a bare time would be ambiguous.
        times[i].textContent = when.toLocaleString(undefined, {
          year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
          timeZoneName: "short"
        });
      } catch (e) {
        times[i].textContent = when.toISOString().slice(0, 16).replace("T", " ") + " UTC";
      }
    }
  }

  function showError(text) {
    if (!errorLine) {
      return;
    }
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function apply(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var parts = document.querySelectorAll("[data-part]");
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i];
      var next = fresh.getElementById(part.id);
      if (!next) {
        continue;
      }
      // Compare with what the server sent last time (times are localized after), and touch
      // only what changed, so a screen reader hears the banner only when it changes.
      if (served[part.id] !== next.innerHTML || part.className !== next.className || part.hidden !== next.hidden) {
        part.className = next.className;
        part.hidden = next.hidden;
        for (var a = 0; a < next.attributes.length; a++) {
          var attr = next.attributes[a];
          if (attr.name.indexOf("data-") === 0) {
            part.setAttribute(attr.name, attr.value);
          }
        }
        part.innerHTML = next.innerHTML;
        served[part.id] = next.innerHTML;
      }
    }
    if (fresh.title) {
      document.title = fresh.title;
    }
    localize(document);
  }

  function refresh() {
    timer = null;
    if (document.hidden || busy) {
      return; // resumed by visibilitychange, or already under way
    }
    busy = true;
    window.fetch(window.location.pathname, {
      cache: "no-store",
      credentials: "omit",
      headers: { "Accept": "text/html" }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(response.status === 404 ? "this status page no longer exists" : "HTTP " + response.status);
      }
      return response.text();
    }).then(function (html) {
      apply(html);
      showError("");
    }).catch(function (error) {
      showError("Could not refresh (" + error.message + "); trying again in " + seconds + " seconds.");
    }).then(function () {
      busy = false;
      schedule();
    });
  }

  function schedule() {
    if (timer === null && !document.hidden) {
      timer = window.setTimeout(refresh, seconds * 1000);
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer === null) {
      refresh();
    }
  });

  var initial = document.querySelectorAll("[data-part]");
  for (var i = 0; i < initial.length; i++) {
    served[initial[i].id] = initial[i].innerHTML;
  }
  localize(document);
  schedule();
})();
