/* Citations (引用): copy buttons in the citation panel, the byline's 引用 link opening it, and
   permalinks to numbered equations. Loaded deferred by templates/includes/citations_panel.html;
   every label comes from data-* attributes on #cite, so the strings are translated server-side. */
(function () {
  "use strict";

  var box = document.getElementById("cite");
  if (!box) return;
  var panel = box.querySelector("details.cite-panel");
  var status = box.querySelector(".cite-status");
  var labels = box.dataset;

  /* Copying -------------------------------------------------------------------------------- */

  function announce(message) {
    if (!status) return;
    status.textContent = "";
    // A fresh text node makes screen readers repeat the same message on the next copy.
    window.setTimeout(function () { status.textContent = message; }, 30);
  }

  function flash(button, text) {
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = text;
    window.clearTimeout(button._citeTimer);
    button._citeTimer = window.setTimeout(function () { button.textContent = original; }, 2000);
  }

  function copyFrom(button, text, done) {
    window.copyText(text).then(
      function () {
        button.classList.add("is-copied");
        flash(button, labels.labelCopied);
        announce(labels.labelCopied + (done ? ": " + done : ""));
      },
      function () {
        button.classList.remove("is-copied");
        announce(labels.labelFailed);
        flash(button, labels.labelFailed);
      }
    );
  }

  box.addEventListener("click", function (event) {
    var button = event.target.closest("button.cite-copy");
    if (!button) return;
    var output = document.getElementById(button.dataset.copy);
    if (!output) return;
    // The text shown is the text copied: the <pre>'s textContent is the formatter's output.
    var heading = button.closest(".cite-format-head").querySelector("h3");
    copyFrom(button, output.textContent, heading ? heading.textContent : "");
  });

  /* Author names as in the byline or in Latin letters (remembered) ---------------------- */

  var NAMES_KEY = "kexue-cite-names";
  var names = box.querySelector(".cite-names");
  if (names) {
    names.hidden = false;
    names.addEventListener("change", function (event) {
      showNames(event.target.value);
      try {
        localStorage.setItem(NAMES_KEY, event.target.value);
      } catch (err) {
        /* private mode: the choice lasts for this page */
      }
    });
    var stored = "";
    try {
      stored = localStorage.getItem(NAMES_KEY) || "";
    } catch (err) {
      stored = "";
    }
    if (stored === "latin") {
      names.querySelector('input[value="latin"]').checked = true;
      showNames("latin");
    }
  }

  function showNames(choice) {
    var latin = choice === "latin";
    box.querySelectorAll(".cite-format").forEach(function (format) {
      var outputs = format.querySelectorAll("pre.cite-output");
      if (outputs.length < 2) return;
      outputs[0].hidden = latin;
      outputs[1].hidden = !latin;
      format.querySelector("button.cite-copy").dataset.copy = (latin ? outputs[1] : outputs[0]).id;
      var link = format.querySelector("a.cite-download");
      if (!link) return;
      if (!link.dataset.ownHref) {
        link.dataset.ownHref = link.getAttribute("href");
        link.dataset.ownDownload = link.getAttribute("download");
      }
      link.setAttribute("href", latin ? link.dataset.latinHref : link.dataset.ownHref);
      link.setAttribute("download", latin ? link.dataset.latinDownload : link.dataset.ownDownload);
    });
  }

  /* The 引用 link opens the panel ---------------------------------------------------------- */

  function openPanel(focus) {
    if (!panel) return;
    panel.open = true;
    // After the link's own jump to #cite, which would otherwise leave focus on <body>.
    if (focus) window.setTimeout(function () { panel.querySelector("summary").focus({ preventScroll: true }); }, 0);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest('a[href="#cite"]');
    if (link) openPanel(true);
  });
  if (window.location.hash === "#cite") openPanel(false);

  /* Equation permalinks ------------------------------------------------------------------ */

  var body = document.querySelector("article.post > .article-body");
  var pageUrl = labels.eqUrl;
  if (!body || !pageUrl) return;

  function fill(template, values) {
    // One pass, so a title that contains "{url}" is not substituted again.
    return template.replace(/\{(n|authors|title|url)\}/g, function (all, key) {
      return values[key];
    });
  }

  // An equation's tag as typeset: the label cell's row in the assistive MathML MathJax puts
  // beside each formula (the same whether the server or the browser typeset the page).
  function tagOf(cell, container) {
    var row = cell.closest("mjx-mtr, mjx-mlabeledtr");
    var index = row && row.parentNode ? Array.prototype.indexOf.call(row.parentNode.children, row) : -1;
    var table = container.querySelector("mjx-assistive-mml mtable");
    var mml = table && index >= 0 ? table.children[index] : null;
    return mml && mml.localName === "mlabeledtr" ? mml.firstElementChild.textContent.trim() : "";
  }

  function permalink(anchorId) {
    return pageUrl + "#" + encodeURI(anchorId);
  }

  function target(anchorId) {
    var anchor = document.getElementById(anchorId);
    if (!anchor || !anchor.classList.contains("eq-tools")) return null;
    return anchor;
  }

  function highlight(anchor) {
    body.querySelectorAll(".eq-target").forEach(function (el) { el.classList.remove("eq-target"); });
    anchor.closest("mjx-container").classList.add("eq-target");
  }

  function followHash() {
    var id;
    try {
      id = decodeURIComponent(window.location.hash.slice(1));
    } catch (err) {
      return;
    }
    if (id.indexOf("eq-") !== 0) return;
    var anchor = target(id);
    if (!anchor) return;
    anchor.scrollIntoView({ block: "center" });
    highlight(anchor);
  }

  function placeTools(tools, cell, container) {
    var cellBox = cell.getBoundingClientRect();
    var boxOf = container.getBoundingClientRect();
    tools.style.top = Math.max(0, cellBox.top - boxOf.top) + "px";
    tools.style.right = Math.max(0, boxOf.right - cellBox.left) + "px";
  }

  function addEquationLinks() {
    var placed = [];
    body.querySelectorAll('mjx-container mjx-mtd[id^="mjx-eqn:"]').forEach(function (cell) {
      var key = cell.id.slice("mjx-eqn:".length);
      var anchorId = "eq-" + key;
      var container = cell.closest("mjx-container");
      if (!container || document.getElementById(anchorId)) return;
      var number = tagOf(cell, container) || "(" + key + ")";

      var tools = document.createElement("span");
      tools.className = "eq-tools";
      tools.id = anchorId;

      var link = document.createElement("a");
      link.className = "eq-permalink";
      link.href = "#" + encodeURI(anchorId);
      link.textContent = "#";
      link.setAttribute("aria-label", fill(labels.labelEqLink, { n: number }));
      link.title = link.getAttribute("aria-label");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        window.history.replaceState(null, "", "#" + encodeURI(anchorId));
        highlight(tools);
        copyFrom(link, permalink(anchorId), number);
      });

      var cite = document.createElement("button");
      cite.type = "button";
      cite.className = "eq-cite";
      cite.textContent = "❝";
      cite.setAttribute("aria-label", fill(labels.labelEqCite, { n: number }));
      cite.title = cite.getAttribute("aria-label");
      cite.addEventListener("click", function (event) {
        event.stopPropagation();
        var text = fill(labels.eqTemplate, {
          n: number,
          authors: labels.eqAuthors,
          title: labels.eqTitle,
          url: permalink(anchorId),
        });
        copyFrom(cite, text, number);
      });

      tools.appendChild(link);
      tools.appendChild(cite);
      container.appendChild(tools);
      placed.push([tools, cell, container]);
    });
    function layout() {
      placed.forEach(function (item) { placeTools(item[0], item[1], item[2]); });
    }
    layout();
    window.addEventListener("resize", layout);
    followHash();
    window.addEventListener("hashchange", followHash);
  }

  // Math typeset on the server is there already; otherwise base.html's MathJax config marks
  // <html> with "mathjax-ready" once the page is typeset.
  var root = document.documentElement;
  if (!window.MathJax || root.classList.contains("mathjax-ready")) {
    addEquationLinks();
  } else if (window.MathJax) {
    var observer = new MutationObserver(function () {
      if (!root.classList.contains("mathjax-ready")) return;
      observer.disconnect();
      addEquationLinks();
    });
    observer.observe(root, { attributes: true, attributeFilter: ["class"] });
  }
})();
