// The network page's graph (Cytoscape.js, vendored): ads, identifiers and templates;
// clicking (or Enter on a list button) shows the evidence of a node or a link.
(function () {
  "use strict";
  var data = document.getElementById("graph-data");
  var box = document.getElementById("graph");
  var panel = document.getElementById("evidence");
  if (!data || !box || typeof cytoscape !== "function") { return; }
  var elements = JSON.parse(data.textContent);
  function show(ele) {
    var d = ele.data();
    panel.textContent = d.evidence || d.label || d.id;
    if (d.href) {
      var a = document.createElement("a");
      a.href = d.href;
      a.textContent = d.kind === "ad" ? " Open the ad" : " Open";
      panel.appendChild(document.createTextNode(" "));
      panel.appendChild(a);
    }
    panel.setAttribute("data-selected", d.id);
  }
  var cy = cytoscape({
    container: box,
    elements: elements,
    wheelSensitivity: 0.3,
    layout: { name: elements.nodes.length > 150 ? "grid" : "cose", animate: false },
    style: [
      { selector: "node", style: { "label": "data(label)", "font-size": 8, "color": "#1a1a1a",
        "text-valign": "bottom", "text-margin-y": 2, "width": 14, "height": 14 } },
      { selector: "node[kind = 'ad']", style: { "background-color": "#1f5fa8", "shape": "ellipse" } },
      { selector: "node[kind = 'phone'], node[kind = 'email'], node[kind = 'handle']",
        style: { "background-color": "#b3261e", "shape": "diamond", "width": 18, "height": 18 } },
      { selector: "node[kind = 'template']", style: { "background-color": "#6b4a00", "shape": "round-rectangle" } },
      { selector: "edge", style: { "width": 1.5, "line-color": "#8a8a8a", "curve-style": "bezier" } },
      { selector: "edge[kind = 'template']", style: { "line-style": "dashed", "line-color": "#6b4a00" } },
      { selector: ":selected", style: { "border-width": 3, "border-color": "#000", "line-color": "#000" } }
    ]
  });
  cy.on("tap", "node, edge", function (evt) { show(evt.target); });
  document.querySelectorAll(".edge-button").forEach(function (b) {
    b.addEventListener("click", function () {
      var e = cy.getElementById(b.getAttribute("data-edge"));
      if (e && e.length) { cy.elements().unselect(); e.select(); show(e); }
    });
  });
  window.adsentryGraph = cy;
})();
