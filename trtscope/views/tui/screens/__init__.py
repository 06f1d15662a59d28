"""The screens of the TUI, one module each: overview, layers, fusion, hotspots, timeline (the top-level ones,
one per navigation key), detail (a layer, pushed over them), help and export (modal dialogs)."""
