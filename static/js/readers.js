/* The reader beacon (N位读者): once the post page has loaded and is actually shown, POST to the
   post's read URL; the answer carries the count, which replaces the byline's number.
   Not sent while the page is prerendered or opened in a background tab (until it is shown), and
   never more than once per page view. The server does the counting rules (blog/readers/). */
(function () {
  "use strict";
  var script = document.querySelector("script[data-read-url]");
  if (!script || !window.fetch) {
    return;
  }
  var url = script.getAttribute("data-read-url");
  var sent = false;

  function show(data) {
    var byline = document.querySelector(".reader-count");
    if (!byline || !data || typeof data.readers !== "number") {
      return;
    }
    byline.textContent = data.label;
    byline.setAttribute("data-reader-count", String(data.readers));
  }

  function send() {
    if (sent || document.prerendering || document.visibilityState !== "visible") {
      return;
    }
    sent = true;
    // "cookies=1": this browser keeps cookies, so the server may give it a visitor cookie
    // instead of recognising it by address and user agent.
    var body = new URLSearchParams({ cookies: navigator.cookieEnabled ? "1" : "0" });
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      keepalive: true,
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(show)
      .catch(function () {});
  }

  document.addEventListener("visibilitychange", send);
  document.addEventListener("prerenderingchange", send);
  if (document.readyState === "complete") {
    send();
  } else {
    window.addEventListener("load", send);
  }
})();
