// Draws a dashboard from its JSON data endpoint (data-endpoint on #dashboard): tiles, plotly.js
// charts, tables, notices. The filter form's values go to the endpoint as query parameters and to
// the page's URL, so a filtered view can be bookmarked. When done, #dashboard gets
// data-state="ready" (or "error") and data-first-chart-ms: the time from navigation start until
// the first chart was drawn (bench/dashboards.py reads both).
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;
  const form = document.getElementById("filters");
  const statusLine = document.getElementById("status");
  let loadNumber = 0;

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function formatNumber(value, decimals) {
    if (value === null || value === undefined) return "–";
    if (typeof value !== "number") return String(value);
    return new Intl.NumberFormat("en-US", {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    }).format(value);
  }

  function cellText(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return formatNumber(value, Number.isInteger(value) ? 0 : 2);
    if (typeof value === "boolean") return value ? "yes" : "no";
    return String(value);
  }

  function setOptions(select, options, selected, allLabel) {
    if (!select) return;
    select.replaceChildren();
    if (allLabel) select.append(element("option", { value: "" }, allLabel));
    for (const option of options) select.append(element("option", { value: option.value }, option.label));
    select.value = selected || "";
  }

  function showFilters(applied) {
    form.elements.start.value = applied.start;
    form.elements.end.value = applied.end;
    if (form.elements.grain) setOptions(form.elements.grain, applied.grains, applied.grain, null);
    if (form.elements.commodity) {
      setOptions(form.elements.commodity, applied.commodities, applied.commodity, "All commodities");
    }
    if (form.elements.symbol) {
      setOptions(form.elements.symbol, applied.symbol_options, applied.symbols[0], "All symbols");
    }
  }

  function showTiles(tiles) {
    const section = document.getElementById("tiles");
    section.replaceChildren();
    for (const tile of tiles) {
      const box = element("div", { class: "tile", "data-tile": tile.id });
      box.append(element("div", { class: "tile-label" }, tile.label));
      const shown = formatNumber(tile.value, tile.decimals) + (tile.unit && tile.value !== null ? " " + tile.unit : "");
      box.append(element("div", { class: "tile-value" }, shown));
      if (tile.change_pct !== null) {
        const sign = tile.change_pct > 0 ? "+" : "";
        const direction = tile.change_pct > 0 ? "up" : tile.change_pct < 0 ? "down" : "flat";
        box.append(element("div", { class: "tile-change " + direction }, sign + formatNumber(tile.change_pct, 1) + " %"));
      }
      if (tile.note) box.append(element("div", { class: "tile-note" }, tile.note));
      section.append(box);
    }
  }

  function showCharts(charts, thisLoad) {
    const section = document.getElementById("charts");
    for (const plot of section.querySelectorAll(".plot")) Plotly.purge(plot);
    section.replaceChildren();
    const drawn = [];
    for (const chart of charts) {
      const figure = element("figure", { class: "chart", "data-chart": chart.id });
      figure.append(element("figcaption", {}, chart.title));
      if (chart.data.length === 0) {
        figure.append(element("p", { class: "empty" }, chart.empty_message));
        section.append(figure);
        continue;
      }
      const plot = element("div", { class: "plot" });
      figure.append(plot);
      section.append(figure);
      const config = { responsive: true, displaylogo: false };
      drawn.push(
        Plotly.newPlot(plot, chart.data, chart.layout, config).then(function () {
          if (thisLoad === 1 && !root.dataset.firstChartMs) {
            root.dataset.firstChartMs = performance.now().toFixed(0);
          }
        })
      );
    }
    return Promise.all(drawn);
  }

  function showTables(tables) {
    const section = document.getElementById("tables");
    section.replaceChildren();
    for (const table of tables) {
      const block = element("div", { class: "table", "data-table": table.id });
      block.append(element("h2", {}, table.title));
      if (table.rows.length === 0) {
        block.append(element("p", { class: "empty" }, table.empty_message));
      } else {
        const grid = element("table");
        const head = element("tr");
        for (const column of table.columns) head.append(element("th", {}, column));
        const thead = element("thead");
        thead.append(head);
        grid.append(thead);
        const body = element("tbody");
        for (const row of table.rows) {
          const line = element("tr");
          for (const value of row) line.append(element("td", { class: typeof value === "number" ? "number" : "" }, cellText(value)));
          body.append(line);
        }
        grid.append(body);
        block.append(grid);
      }
      section.append(block);
    }
  }

  function showNotices(notices) {
    const section = document.getElementById("notices");
    section.replaceChildren();
    for (const notice of notices) section.append(element("p", { class: "notice", role: "note" }, notice));
  }

  async function load(query) {
    const thisLoad = ++loadNumber;
    root.dataset.state = "loading";
    statusLine.textContent = "Loading…";
    const response = await fetch(root.dataset.endpoint + (query ? "?" + query : ""), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.status === 401) {
      window.location.assign("/dashboards/login?next=" + encodeURIComponent(location.pathname + location.search));
      return;
    }
    const payload = await response.json();
    if (thisLoad !== loadNumber) return; // a newer load started meanwhile
    if (!response.ok) {
      statusLine.textContent = payload.error ? payload.error.message : "The dashboard could not be loaded.";
      statusLine.className = "status error";
      root.dataset.state = "error";
      return;
    }
    showFilters(payload.filters);
    showNotices(payload.notices);
    showTiles(payload.tiles);
    showTables(payload.tables);
    await showCharts(payload.charts, thisLoad);
    statusLine.textContent = "Showing " + payload.filters.start + " to " + payload.filters.end + " (not included).";
    statusLine.className = "status";
    root.dataset.state = "ready";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) query.set(name, value);
    history.replaceState(null, "", "?" + query.toString());
    load(query.toString());
  });
  for (const select of form.querySelectorAll("select")) {
    select.addEventListener("change", function () {
      form.requestSubmit();
    });
  }

  load(location.search.replace(/^\?/, "")).catch(function (error) {
    statusLine.textContent = "The dashboard could not be loaded: " + error;
    statusLine.className = "status error";
    root.dataset.state = "error";
  });
})();
