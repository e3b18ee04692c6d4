// Starship's one script: dialogs, the user search suggestions, select-all,
// a question before what cannot be undone, readable names for locale
// and country codes, and times in the viewer's time zone. Every page works without it except where a dialog
// holds the form.
"use strict";

(function () {
  // --- Dialogs: open with showModal (focus moves in, Escape closes, the
  // page behind is inert), give focus back to the opener on close.
  function openDialog(dialog, opener) {
    if (!dialog || dialog.open) return;
    dialog.starshipOpener = opener || document.activeElement;
    dialog.showModal();
    const first = dialog.querySelector("[aria-invalid='true'], input:not([type='hidden']):not([disabled]), select, textarea, button:not([data-dialog-close])");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      const needs = opener.getAttribute("data-requires-checked");
      if (needs) {
        const checked = document.querySelectorAll("input[name='" + needs + "']:checked").length;
        const message = document.querySelector("[data-requires-error='" + needs + "']");
        if (!checked) {
          if (message) {
            message.textContent = opener.getAttribute("data-requires-message");
            message.hidden = false;
          }
          const firstBox = document.querySelector("input[name='" + needs + "']");
          if (firstBox) firstBox.focus();
          return;
        }
        if (message) message.hidden = true;
      }
      openDialog(document.getElementById(opener.getAttribute("data-dialog-open")), opener);
      return;
    }
    const closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });

  document.addEventListener("close", function (event) {
    const dialog = event.target;
    if (dialog.starshipOpener && document.contains(dialog.starshipOpener)) dialog.starshipOpener.focus();
  }, true);

  // --- A refused field, once changed, stops claiming to be wrong.
  function settle(event) {
    const field = event.target;
    if (!field.matches || !field.matches("[aria-invalid='true']")) return;
    field.removeAttribute("aria-invalid");
    const described = field.getAttribute("aria-describedby");
    if (described) {
      described.split(" ").forEach(function (id) {
        const message = document.getElementById(id);
        if (message && message.classList.contains("field-error")) message.hidden = true;
      });
    }
  }
  document.addEventListener("input", settle);
  document.addEventListener("change", settle);

  // --- Select all users.
  document.addEventListener("change", function (event) {
    const all = event.target.closest("[data-select-all]");
    if (all) {
      document.querySelectorAll("input[name='" + all.getAttribute("data-select-all") + "']").forEach(function (box) {
        box.checked = all.checked;
      });
    }
  });

  // --- The header's menu folds on a phone; wide screens keep it open.
  const menu = document.querySelector("[data-fold-menu]");
  if (menu && window.matchMedia("(max-width: 720px)").matches) menu.open = false;

  // --- Forms that cannot be undone ask first: data-confirm holds the question.
  document.addEventListener("submit", function (event) {
    const question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // --- Readable names for BCP 47 locales and ISO country codes.
  function nameCodes(selector, type) {
    if (typeof Intl === "undefined" || !Intl.DisplayNames) return;
    let names;
    try { names = new Intl.DisplayNames([navigator.language || "en"], { type: type }); } catch (e) { return; }
    document.querySelectorAll(selector).forEach(function (select) {
      const options = Array.from(select.options).filter(function (o) { return o.value; });
      options.forEach(function (option) {
        let name;
        try { name = names.of(option.value); } catch (e) { name = null; }
        if (name && name !== option.value) option.textContent = name + " (" + option.value + ")";
      });
      if (type === "region") {
        const chosen = select.value;
        options.sort(function (a, b) { return a.textContent.localeCompare(b.textContent); });
        options.forEach(function (o) { select.appendChild(o); });
        select.value = chosen;
      }
    });
  }

  // --- The user search: suggestions as you type (WAI-ARIA combobox with
  // a listbox popup), from the same search the API serves.
  function typeahead(box) {
    const input = box.querySelector("input[role='combobox']");
    const list = box.querySelector("[role='listbox']");
    const status = box.closest("form").querySelector("[data-typeahead-status]");
    let timer = null;
    let active = -1;
    let results = [];
    let sequence = 0;

    function options() { return Array.from(list.querySelectorAll("[role='option']")); }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach(function (option, i) { option.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    function open(user) { window.location.href = "/users/" + encodeURIComponent(user.id); }

    function render(users, query) {
      results = users;
      list.replaceChildren();
      active = -1;
      input.removeAttribute("aria-activedescendant");
      if (!users.length) {
        const none = document.createElement("li");
        none.className = "option-none";
        none.textContent = "No user matches “" + query + "”";
        list.appendChild(none);
      }
      users.forEach(function (user, i) {
        const li = document.createElement("li");
        li.id = "user-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        const name = document.createElement("span");
        name.className = "option-name";
        name.textContent = user.first_name + " " + user.last_name;
        const email = document.createElement("span");
        email.className = "option-email";
        email.textContent = user.email;
        li.append(name, email);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { open(user); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      if (status) status.textContent = users.length ? users.length + (users.length === 1 ? " user" : " users") + " found" : "No user found";
    }

    async function search() {
      const query = input.value.trim();
      if (!query) { close(); return; }
      const mine = ++sequence;
      try {
        const response = await fetch("/api/v1/users?limit=8&q=" + encodeURIComponent(query), {
          headers: { accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok || mine !== sequence) return;
        render(await response.json(), query);
      } catch (e) {
        // The plain search still works: Enter submits the form.
      }
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("keydown", function (event) {
      const expanded = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!expanded) { search(); return; }
        highlight(active + 1);
      } else if (event.key === "ArrowUp") {
        if (expanded) { event.preventDefault(); highlight(active - 1); }
      } else if (event.key === "Enter") {
        if (expanded && active >= 0 && results[active]) {
          event.preventDefault();
          open(results[active]);
        }
      } else if (event.key === "Escape") {
        if (expanded) { event.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 120); });
  }

  // --- Times in the viewer's own time zone; the server writes UTC, kept as the tooltip.
  function localTimes() {
    const format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      // dateStyle cannot be combined with timeZoneName, so the fields are named.
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
    document.querySelectorAll("time[data-local-time]").forEach(function (time) {
      const at = new Date(time.getAttribute("datetime"));
      if (isNaN(at)) return;
      time.title = time.textContent;
      time.textContent = format.format(at);
    });
  }

  // A file input that loads a text file into a textarea (the CSV upload):
  // the server reads the textarea, so pasting works the same.
  function loadInto(input) {
    const target = document.getElementById(input.getAttribute("data-load-into"));
    if (!target) return;
    input.addEventListener("change", function () {
      const file = input.files && input.files[0];
      if (!file) return;
      file.text().then(function (text) { target.value = text; });
    });
  }

  function start() {
    localTimes();
    document.querySelectorAll("input[type=file][data-load-into]").forEach(loadInto);
    document.querySelectorAll("[data-typeahead]").forEach(typeahead);
    nameCodes("select[data-locale-names]", "language");
    nameCodes("select[data-region-names]", "region");
    const panel = document.querySelector("[data-focus-on-load]");
    if (panel) panel.focus();
    document.querySelectorAll("dialog[data-open-on-load]").forEach(function (dialog) { openDialog(dialog, null); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
