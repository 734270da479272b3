/* corpus_tools report: sortable, filterable, paginated tables.
   Data comes from <script type="application/json"> blocks written by the report builder.
   Every value from the run (page text, titles) goes on screen through textContent only. */
(function () {
  "use strict";

  var SCHEME = /^[a-z][a-z0-9+.\-]*:/i;

  function text(v) {
    if (v === null || v === undefined || v === "") return "";
    if (typeof v === "number") {
      return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
    }
    if (typeof v === "boolean") return v ? "yes" : "no";
    return String(v);
  }

  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }

  function compare(a, b, numeric) {
    var na = a === null || a === undefined || a === "";
    var nb = b === null || b === undefined || b === "";
    if (na || nb) return na === nb ? 0 : (na ? 1 : -1); /* empty cells last */
    if (numeric) return Number(a) - Number(b);
    return String(a).localeCompare(String(b), "zh-Hans-CN");
  }

  function Table(root) {
    this.root = root;
    this.spec = JSON.parse(root.querySelector(".dt-data").textContent);
    this.rows = this.spec.rows;
    this.columns = this.spec.columns;
    this.links = this.spec.link || {};
    this.pageSize = this.spec.page_size || 50;
    this.page = 0;
    this.sortKey = null;
    this.sortDir = 1;
    this.query = "";
    this.facets = {};
    this.tbody = root.querySelector("tbody");
    this.count = root.querySelector(".dt-count");
    this.pager = root.querySelector(".dt-pager");
    this.haystack = this.rows.map(function (r) {
      return this.columns.map(function (c) { return text(r[c.key]); }).join("\u0001").toLowerCase();
    }, this);
    this.id = root.getAttribute("data-table") || "table";
    this.setupHeaders();
    this.setupFilter();
    this.setupFacets();
    this.restore();
    this.render();
  }

  /* State in the address: index.html#?documents.q=志愿&documents.sort=-n_chars&documents.year=2023
     so that a filtered, sorted view can be linked, and Back returns to it. */
  function hashParams() {
    var h = location.hash.replace(/^#\??/, "");
    return h.indexOf("=") < 0 ? new URLSearchParams("") : new URLSearchParams(h);
  }

  Table.prototype.restore = function () {
    var p = hashParams();
    var id = this.id;
    var q = p.get(id + ".q");
    if (q) {
      this.root.querySelector(".dt-filter").value = q;
      this.query = q.trim().toLowerCase();
    }
    var sort = p.get(id + ".sort");
    if (sort) {
      this.sortDir = sort.charAt(0) === "-" ? -1 : 1;
      this.sortKey = sort.replace(/^[-+]/, "");
    }
    var page = Number(p.get(id + ".page"));
    if (page > 0) this.page = page - 1;
    var self = this;
    Array.prototype.forEach.call(this.root.querySelectorAll(".dt-facets select"), function (s) {
      var v = p.get(id + "." + s.getAttribute("data-key"));
      if (v !== null) { s.value = v; self.facets[s.getAttribute("data-key")] = v; }
    });
  };

  Table.prototype.save = function () {
    var p = hashParams();
    var id = this.id;
    var keys = [];
    p.forEach(function (v, k) { if (k.indexOf(id + ".") === 0) keys.push(k); });
    keys.forEach(function (k) { p.delete(k); });
    if (this.query) p.set(id + ".q", this.query);
    if (this.sortKey !== null) p.set(id + ".sort", (this.sortDir < 0 ? "-" : "") + this.sortKey);
    if (this.page > 0) p.set(id + ".page", String(this.page + 1));
    for (var k in this.facets) p.set(id + "." + k, this.facets[k]);
    var s = p.toString();
    try {
      history.replaceState(null, "", s ? "#?" + s : location.pathname + location.search);
    } catch (e) { /* some browsers refuse on file:// — the view still works */ }
  };

  Table.prototype.setupHeaders = function () {
    var self = this;
    Array.prototype.forEach.call(this.root.querySelectorAll("thead th"), function (th) {
      var key = th.getAttribute("data-key");
      var label = th.textContent;
      th.textContent = "";
      var b = el("button", "sort", label);
      b.type = "button";
      b.setAttribute("aria-label", "Sort by " + label);
      b.appendChild(el("span", "arrow", ""));
      b.addEventListener("click", function () {
        if (self.sortKey === key) self.sortDir = -self.sortDir;
        else { self.sortKey = key; self.sortDir = 1; }
        self.page = 0;
        self.render();
        self.save();
      });
      th.appendChild(b);
    });
  };

  Table.prototype.setupFilter = function () {
    var self = this;
    var input = this.root.querySelector(".dt-filter");
    input.addEventListener("input", function () {
      self.query = input.value.trim().toLowerCase();
      self.page = 0;
      self.render();
      self.save();
    });
  };

  Table.prototype.setupFacets = function () {
    var self = this;
    var box = this.root.querySelector(".dt-facets");
    this.columns.forEach(function (c) {
      if (c.type !== "facet") return;
      var values = {};
      self.rows.forEach(function (r) { values[text(r[c.key])] = true; });
      var list = Object.keys(values).sort(function (a, b) { return compare(a, b, false); });
      if (list.length < 2 || list.length > 200) return;
      var label = el("label", "facet", c.label + " ");
      var select = el("select");
      select.setAttribute("data-key", c.key);
      var all = el("option", null, "all");
      all.value = "\u0000all";
      select.appendChild(all);
      list.forEach(function (v) {
        var o = el("option", null, v === "" ? "(none)" : v);
        o.value = v;
        select.appendChild(o);
      });
      select.addEventListener("change", function () {
        if (select.value === "\u0000all") delete self.facets[c.key];
        else self.facets[c.key] = select.value;
        self.page = 0;
        self.render();
        self.save();
      });
      label.appendChild(select);
      box.appendChild(label);
    });
  };

  Table.prototype.visible = function () {
    var self = this;
    var out = [];
    for (var i = 0; i < this.rows.length; i++) {
      var r = this.rows[i];
      if (this.query && this.haystack[i].indexOf(this.query) < 0) continue;
      var ok = true;
      for (var key in this.facets) {
        if (text(r[key]) !== this.facets[key]) { ok = false; break; }
      }
      if (ok) out.push(r);
    }
    if (this.sortKey !== null) {
      var col = this.columns.filter(function (c) { return c.key === self.sortKey; })[0];
      var numeric = col && col.type === "num";
      var key = this.sortKey;
      var dir = this.sortDir;
      out = out.map(function (r, i) { return [r, i]; });
      out.sort(function (a, b) {
        var c = compare(a[0][key], b[0][key], numeric);
        if (c === 0) return a[1] - b[1];
        var empty = a[0][key] === null || a[0][key] === undefined || a[0][key] === "" ||
                    b[0][key] === null || b[0][key] === undefined || b[0][key] === "";
        return empty ? c : c * dir;
      });
      out = out.map(function (p) { return p[0]; });
    }
    return out;
  };

  Table.prototype.cell = function (row, c) {
    var td = el("td", c.type === "num" ? "num" : null);
    var value = text(row[c.key]);
    var hrefKey = this.links[c.key];
    var href = hrefKey ? row[hrefKey] : null;
    if (href && !SCHEME.test(href) && value !== "") {
      var a = el("a", null, value);
      a.setAttribute("href", href);
      td.appendChild(a);
    } else {
      td.textContent = value;
    }
    return td;
  };

  Table.prototype.render = function () {
    var self = this;
    var rows = this.visible();
    var pages = Math.max(1, Math.ceil(rows.length / this.pageSize));
    if (this.page >= pages) this.page = pages - 1;
    var start = this.page * this.pageSize;
    var frag = document.createDocumentFragment();
    rows.slice(start, start + this.pageSize).forEach(function (r) {
      var tr = el("tr");
      self.columns.forEach(function (c) { tr.appendChild(self.cell(r, c)); });
      frag.appendChild(tr);
    });
    this.tbody.textContent = "";
    this.tbody.appendChild(frag);
    Array.prototype.forEach.call(this.root.querySelectorAll("thead th"), function (th) {
      var key = th.getAttribute("data-key");
      var arrow = th.querySelector(".arrow");
      if (key === self.sortKey) {
        th.setAttribute("aria-sort", self.sortDir > 0 ? "ascending" : "descending");
        arrow.textContent = self.sortDir > 0 ? " ▲" : " ▼";
      } else {
        th.removeAttribute("aria-sort");
        arrow.textContent = "";
      }
    });
    this.count.textContent = rows.length === this.rows.length
      ? rows.length + " " + (this.spec.label || "rows")
      : rows.length + " of " + this.rows.length + " " + (this.spec.label || "rows");
    this.renderPager(pages);
  };

  Table.prototype.renderPager = function (pages) {
    var self = this;
    this.pager.textContent = "";
    if (pages <= 1 && this.rows.length <= 25) return;
    function button(label, page, disabled, name) {
      var b = el("button", "page", label);
      b.type = "button";
      b.disabled = disabled;
      b.setAttribute("aria-label", name);
      b.addEventListener("click", function () {
        self.page = page;
        self.render();
        self.save();
        self.root.querySelector(".dt-pager .page-status").focus();
      });
      return b;
    }
    var last = pages - 1;
    this.pager.appendChild(button("«", 0, this.page === 0, "First page"));
    this.pager.appendChild(button("‹", Math.max(0, this.page - 1), this.page === 0, "Previous page"));
    var status = el("span", "page-status", "page " + (this.page + 1) + " of " + pages);
    status.tabIndex = -1;
    this.pager.appendChild(status);
    this.pager.appendChild(button("›", Math.min(last, this.page + 1), this.page === last, "Next page"));
    this.pager.appendChild(button("»", last, this.page === last, "Last page"));
    var size = el("select");
    size.setAttribute("aria-label", "Rows per page");
    [25, 50, 100, 500].forEach(function (n) {
      var o = el("option", null, n + " per page");
      o.value = String(n);
      if (n === self.pageSize) o.selected = true;
      size.appendChild(o);
    });
    size.addEventListener("change", function () {
      self.pageSize = Number(size.value);
      self.page = 0;
      self.render();
    });
    this.pager.appendChild(size);
  };

  function init() {
    var tables = [];
    Array.prototype.forEach.call(document.querySelectorAll(".datatable"), function (root) {
      try {
        root.table = new Table(root);
        tables.push(root.table);
        root.setAttribute("data-ready", "1");
      } catch (e) {
        root.setAttribute("data-error", String(e));
      }
    });
    /* Cells filled while the bundled CJK font was still loading can keep the fallback's
       empty boxes (seen in Chromium): fill them again once it has loaded. */
    if (tables.length && document.fonts && document.fonts.load) {
      document.fonts.load('1em "Report Noto Sans CJK SC"', "中文").then(function (faces) {
        if (faces.length) tables.forEach(function (t) { t.render(); });
      }, function () { /* no web font: system fonts only */ });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
