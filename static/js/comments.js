/* Comments on a post page: preview with MathJax, reply links, click #n to quote, remembered
   commenter details, links to comments on other comment pages. Loaded deferred; everything also
   works without it (plain links and POST). */
(function () {
  "use strict";

  var section = document.getElementById("comments");
  if (!section) return;
  var respond = document.getElementById("respond");
  var form = respond && respond.querySelector(".comment-form");
  var body = form && form.querySelector("textarea[name=body]");
  var STORE = "kexue-commenter";

  moveCommentMessages();
  followCommentLinks();
  if (!form) return;

  var replyInput = form.querySelector("input[name=reply_to]");
  var home = document.getElementById("respond-home");
  var banner = respond.querySelector(".comment-replying");
  var preview = form.querySelector(".comment-preview");
  var previewButton = form.querySelector(".comment-preview-button");

  restoreCommenter();
  if (form.querySelector(".errorlist")) respond.scrollIntoView();

  section.addEventListener("click", function (event) {
    var reply = event.target.closest("[data-reply]");
    var number = event.target.closest(".comment-number");
    var cancel = event.target.closest(".comment-cancel-reply");
    if (reply) {
      event.preventDefault();
      replyTo(reply.closest("li.comment"));
    } else if (number) {
      event.preventDefault();
      quote(number.closest("li.comment"));
    } else if (cancel) {
      event.preventDefault();
      cancelReply();
    }
  });

  previewButton.addEventListener("click", showPreview);
  form.addEventListener("submit", rememberCommenter);
  form.addEventListener("focusin", refreshToken, { once: true });

  function refreshToken() {
    // The page may come from a cache: time the form from when the reader starts writing.
    fetch(section.dataset.tokenUrl, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (result) {
        if (result && result.token) form.elements.token.value = result.token;
      })
      .catch(function () {
        /* keep the token the page came with */
      });
  }

  function replyTo(comment) {
    var number = comment.dataset.number;
    replyInput.value = number;
    banner.querySelector(".comment-replying-number").textContent = number;
    banner.querySelector(".comment-replying-name").textContent = comment.dataset.author;
    banner.querySelector(".comment-replying-link").setAttribute("href", "#comment-" + number);
    banner.hidden = false;
    comment.querySelector(".comment-box").after(respond);
    body.focus();
  }

  function cancelReply() {
    replyInput.value = "";
    banner.hidden = true;
    home.after(respond);
  }

  function quote(comment) {
    var number = comment.dataset.number;
    var name = escapeMarkdown(comment.dataset.author);
    var excerpt = comment.dataset.excerpt.replace(/\n/g, " ");
    var text = "> [#" + number + "](#comment-" + number + ") **" + name + "**：" + excerpt + "\n\n";
    var at = body.selectionStart || 0;
    body.value = body.value.slice(0, at) + text + body.value.slice(at);
    body.focus();
    body.selectionStart = body.selectionEnd = at + text.length;
    respond.scrollIntoView({ block: "nearest" });
  }

  function escapeMarkdown(text) {
    return text.replace(/[\\`*_[\]<>#$|]/g, "\\$&");
  }

  function showPreview() {
    var data = new FormData();
    data.append("body", body.value);
    previewButton.disabled = true;
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]"); // logged-in pages only
    fetch(section.dataset.previewUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: csrf ? { "X-CSRFToken": csrf.value } : {},
    })
      .then(function (response) {
        return response.json().catch(function () {
          return { error: response.statusText || String(response.status) };
        });
      })
      .then(function (result) {
        preview.hidden = false;
        if (result.error) {
          preview.textContent = result.error;
          preview.classList.add("comment-preview-error");
          return;
        }
        preview.classList.remove("comment-preview-error");
        // The server sanitised this HTML exactly as it will when the comment is saved.
        preview.innerHTML = result.html;
        return typeset(preview);
      })
      .catch(function (error) {
        preview.hidden = false;
        preview.textContent = String(error);
      })
      .finally(function () {
        previewButton.disabled = false;
        preview.dataset.ready = "1";
      });
  }

  var mathjaxLoading = null;

  // Pages without math do not load MathJax; the first preview loads it from this site.
  function loadMathJax() {
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
      return window.MathJax.startup.promise;
    }
    if (!mathjaxLoading) {
      mathjaxLoading = new Promise(function (resolve, reject) {
        function add(src, next) {
          var script = document.createElement("script");
          script.src = src;
          script.onload = next;
          script.onerror = reject;
          document.head.appendChild(script);
        }
        add(form.dataset.commentTex, function () {
          add(form.dataset.mathjaxConfig, function () {
            add(form.dataset.mathjax, function () {
              window.MathJax.startup.promise.then(resolve, reject);
            });
          });
        });
      });
    }
    return mathjaxLoading;
  }

  function typeset(element) {
    return loadMathJax().then(function () {
      var mathjax = window.MathJax;
      mathjax.typesetClear([element]);
      return mathjax.typesetPromise([element]);
    });
  }

  function restoreCommenter() {
    var saved;
    try {
      saved = JSON.parse(window.localStorage.getItem(STORE) || "{}");
    } catch (error) {
      return;
    }
    ["author_name", "email", "website"].forEach(function (name) {
      var input = form.elements[name];
      if (input && !input.value && typeof saved[name] === "string") input.value = saved[name];
    });
  }

  function rememberCommenter() {
    // One click, one comment: a second click while the page is submitting does nothing.
    form.querySelector("button[type=submit]").disabled = true;
    var saved = {};
    ["author_name", "email", "website"].forEach(function (name) {
      if (form.elements[name]) saved[name] = form.elements[name].value;
    });
    try {
      window.localStorage.setItem(STORE, JSON.stringify(saved));
    } catch (error) {
      /* private mode: nothing to remember */
    }
  }

  function followCommentLinks() {
    // The thread is split into pages: a "#comment-N" link (a quote in a comment, or an old link
    // from before comments had pages) may name a comment shown on another page. Its permalink
    // redirects to that page; a comment that is gone leaves the reader where they are.
    section.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#comment-']");
      var number = link && commentNumber(link.getAttribute("href"));
      if (number && !document.getElementById("comment-" + number)) {
        event.preventDefault();
        goToComment(number, false);
      }
    });
    var landed = commentNumber(window.location.hash);
    if (landed && !document.getElementById("comment-" + landed)) goToComment(landed, true);
  }

  function commentNumber(href) {
    var match = /^#comment-([0-9]{1,9})$/.exec(href || "");
    return match && match[1];
  }

  function goToComment(number, replace) {
    // The permalink URL is rendered for comment 0: put the number in its place.
    var permalink = section.dataset.permalinkUrl.replace(/\/0\/$/, "/" + number + "/");
    fetch(permalink, { method: "HEAD", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) return;
        var target = response.url.split("#")[0] + "#comment-" + number;
        if (replace) window.location.replace(target);
        else window.location.assign(target);
      })
      .catch(function () {
        /* offline: stay */
      });
  }

  function moveCommentMessages() {
    // "Awaiting moderation" / "published" notices belong next to the comments, where the
    // redirect lands, rather than at the top of the page.
    var notices = document.querySelectorAll(".messages li.message-comment");
    if (!notices.length) return;
    var list = document.createElement("ul");
    list.className = "messages comment-messages";
    notices.forEach(function (notice) {
      var old = notice.parentNode;
      list.appendChild(notice);
      if (!old.children.length) old.remove();
    });
    section.querySelector(".comments-title").after(list);
  }
})();
