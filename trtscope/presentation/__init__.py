"""Words and numbers for people: display labels of the analysis' vocabulary and number/name formatting,
shared by the views (console, TUI) and the exporters (trace, NVTXT), so a kind or a figure reads the same in all
of them. Nothing here computes a figure."""
