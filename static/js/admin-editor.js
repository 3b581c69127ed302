/* The post editor in the admin, around django-markdownx's textarea and preview:
   - a splitter between them (drag, or arrow keys) whose position is remembered;
   - the preview follows the part being edited: the section (heading) the caret or the top visible
     line is in, and the place within it;
   - full screen (button, Esc leaves);
   - Ctrl/Cmd-S saves ("save and continue editing") and the caret comes back after the reload;
   - a local draft (localStorage, per post) saved while typing, offered back with a prompt when the
     page opens with something else, and dropped once the post is saved.
   Strings come from the admin's JavaScript catalogue (gettext). */
(function () {
  "use strict";
  const t = window.gettext || ((text) => text);
  const CARET_KEY = "admin-editor:caret"; // sessionStorage: this tab's caret across a save
  const SUBMITTED_KEY = "admin-editor:submitted"; // sessionStorage: the draft a save should clear
  const SPLIT_KEY = "admin-editor:split";
  const DRAFT_DELAY = 800;

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.querySelector(".markdownx");
    const editor = box && box.querySelector("textarea");
    const preview = box && box.querySelector(".markdownx-preview");
    if (!editor || !preview) return;
    const form = editor.form;
    const title = form.elements.namedItem("title");
    const draftKey = "admin-editor:draft:" + postKey();

    const toolbar = element("div", "markdownx-toolbar");
    const fullscreen = element("button", "button markdownx-fullscreen-button", t("Full screen"));
    fullscreen.type = "button";
    const status = element("span", "markdownx-status");
    toolbar.append(fullscreen, status);
    box.prepend(toolbar);
    const splitter = element("div", "markdownx-splitter");
    splitter.tabIndex = 0;
    splitter.setAttribute("role", "separator");
    splitter.setAttribute("aria-orientation", "vertical");
    splitter.setAttribute("aria-label", t("Resize the editor and the preview"));
    editor.after(splitter);

    setSplit(parseFloat(localStorage.getItem(SPLIT_KEY)) || 0.5);
    splitter.addEventListener("pointerdown", startResize);
    splitter.addEventListener("keydown", (event) => {
      const step = { ArrowLeft: -0.05, ArrowRight: 0.05 }[event.key];
      if (!step) return;
      event.preventDefault();
      setSplit(currentSplit() + step, true);
    });

    fullscreen.addEventListener("click", () => toggleFullscreen());
    document.addEventListener("keydown", onKeyDown, true);

    let syncing = 0;
    editor.addEventListener("scroll", () => {
      if (!syncing) followLine(topVisibleLine());
    });
    ["keyup", "click", "input"].forEach((type) =>
      editor.addEventListener(type, () => {
        syncing += 1;
        followLine(lineOf(editor.selectionStart));
        requestAnimationFrame(() => (syncing -= 1));
      }),
    );
    preview.addEventListener("preview:typeset", () => followLine(lineOf(editor.selectionStart)));

    clearSavedDraft();
    offerDraft();
    let draftTimer = null;
    [editor, title].forEach((field) =>
      field && field.addEventListener("input", () => {
        clearTimeout(draftTimer);
        draftTimer = setTimeout(saveDraft, DRAFT_DELAY);
      }),
    );
    form.addEventListener("submit", () => sessionStorage.setItem(SUBMITTED_KEY, draftKey));
    restoreCaret();

    function element(tag, className, text) {
      const node = document.createElement(tag);
      node.className = className;
      if (text) node.textContent = text;
      return node;
    }

    function postKey() {
      const match = location.pathname.match(/\/(\d+)\/change\/$/);
      return match ? match[1] : "new";
    }

    /* --- the splitter ------------------------------------------------------------------- */
    function currentSplit() {
      return parseFloat(box.dataset.split) || 0.5;
    }

    function setSplit(share, remember) {
      share = Math.min(0.8, Math.max(0.2, share));
      box.dataset.split = share;
      box.style.setProperty("--editor-left", share + "fr");
      box.style.setProperty("--editor-right", 1 - share + "fr");
      if (remember) localStorage.setItem(SPLIT_KEY, share);
    }

    function startResize(event) {
      event.preventDefault();
      splitter.setPointerCapture(event.pointerId);
      box.classList.add("markdownx-resizing");
      const move = (moved) => {
        const left = editor.getBoundingClientRect().left;
        const right = preview.getBoundingClientRect().right;
        setSplit((moved.clientX - left) / (right - left), true);
      };
      const stop = () => {
        box.classList.remove("markdownx-resizing");
        splitter.removeEventListener("pointermove", move);
        splitter.removeEventListener("pointerup", stop);
      };
      splitter.addEventListener("pointermove", move);
      splitter.addEventListener("pointerup", stop);
    }

    /* --- full screen and keys ----------------------------------------------------------- */
    function toggleFullscreen(on) {
      on = on === undefined ? !box.classList.contains("markdownx-fullscreen") : on;
      box.classList.toggle("markdownx-fullscreen", on);
      document.body.classList.toggle("markdownx-fullscreen-open", on);
      fullscreen.textContent = on ? t("Leave full screen") : t("Full screen");
      fullscreen.setAttribute("aria-pressed", on);
      editor.focus();
    }

    function onKeyDown(event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        save();
      } else if (event.key === "Escape" && box.classList.contains("markdownx-fullscreen")) {
        toggleFullscreen(false);
      }
    }

    function save() {
      sessionStorage.setItem(
        CARET_KEY,
        JSON.stringify({
          start: editor.selectionStart,
          end: editor.selectionEnd,
          scroll: editor.scrollTop,
          fullscreen: box.classList.contains("markdownx-fullscreen"),
        }),
      );
      const keep = form.querySelector("[name=_continue]");
      status.textContent = t("Saving…");
      form.requestSubmit(keep || undefined);
    }

    function restoreCaret() {
      const saved = JSON.parse(sessionStorage.getItem(CARET_KEY) || "null");
      sessionStorage.removeItem(CARET_KEY);
      if (!saved) return;
      if (saved.fullscreen) toggleFullscreen(true);
      editor.focus();
      editor.setSelectionRange(saved.start, saved.end);
      editor.scrollTop = saved.scroll;
    }

    /* --- the local draft ---------------------------------------------------------------- */
    function currentContent() {
      return { title: title ? title.value : "", body: editor.value };
    }

    function saveDraft() {
      const draft = { ...currentContent(), at: new Date().toISOString() };
      try {
        localStorage.setItem(draftKey, JSON.stringify(draft));
        status.textContent = t("Draft kept in this browser") + " " + new Date().toLocaleTimeString();
      } catch (error) {
        status.textContent = t("The draft could not be kept in this browser");
      }
    }

    function clearSavedDraft() {
      // After a save without errors, the server has what the draft held.
      const submitted = sessionStorage.getItem(SUBMITTED_KEY);
      sessionStorage.removeItem(SUBMITTED_KEY);
      if (submitted && !document.querySelector(".errornote")) localStorage.removeItem(submitted);
    }

    function offerDraft() {
      const draft = JSON.parse(localStorage.getItem(draftKey) || "null");
      if (!draft) return;
      const now = currentContent();
      if (draft.body === now.body && draft.title === now.title) {
        localStorage.removeItem(draftKey);
        return;
      }
      const offer = element("div", "markdownx-draft");
      offer.setAttribute("role", "alert");
      const when = new Date(draft.at).toLocaleString();
      offer.append(
        element("span", "", interpolate(t("An unsaved draft from %s is kept in this browser."), [when])),
      );
      const restore = element("button", "button", t("Restore it"));
      const discard = element("button", "button", t("Discard it"));
      restore.type = discard.type = "button";
      restore.addEventListener("click", () => {
        if (title) title.value = draft.title;
        editor.value = draft.body;
        editor.dispatchEvent(new Event("input", { bubbles: true }));
        offer.remove();
      });
      discard.addEventListener("click", () => {
        localStorage.removeItem(draftKey);
        offer.remove();
      });
      offer.append(restore, discard);
      toolbar.append(offer);
    }

    function interpolate(text, values) {
      return window.interpolate ? window.interpolate(text, values) : text.replace("%s", values[0]);
    }

    /* --- the preview follows the source ------------------------------------------------- */
    function lineOf(offset) {
      return editor.value.slice(0, offset).split("\n").length - 1;
    }

    function topVisibleLine() {
      const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
      return Math.floor(editor.scrollTop / lineHeight);
    }

    /* Scroll the preview to the place matching source line `line`: the same heading's section,
       and the same fraction of it. Headings are counted outside fenced code. */
    function followLine(line) {
      const lines = editor.value.split("\n");
      const starts = [0];
      let fenced = false;
      lines.forEach((text, index) => {
        if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
        else if (!fenced && /^#{1,6}\s/.test(text)) starts.push(index);
      });
      starts.push(lines.length);
      let section = 0;
      while (section + 1 < starts.length - 1 && starts[section + 1] <= line) section += 1;
      const from = starts[section];
      const to = starts[section + 1];
      const fraction = to > from ? (line - from) / (to - from) : 0;

      const headings = preview.querySelectorAll("h1, h2, h3, h4, h5, h6");
      const offset = (node) =>
        node.getBoundingClientRect().top - preview.getBoundingClientRect().top + preview.scrollTop;
      const top = section === 0 ? 0 : headings[section - 1] ? offset(headings[section - 1]) : null;
      if (top === null) return;
      const next = headings[section] ? offset(headings[section]) : preview.scrollHeight;
      const target = top + fraction * (next - top) - preview.clientHeight / 3;
      preview.scrollTop = Math.max(0, target);
    }
  });
})();
