"""The diff view's screens (``trtscope tui A B``): Overview, Nodes, Op types, Inserted layers, Layer kinds,
and the detail pages of a node pair and of a group of inserted layers. Hosted by ``diff_app.DiffApp``."""

from trtscope.views.tui.widgets.nav import Screens

#: (key, mode, label) of the diff view's top-level screens.
DIFF_SCREENS: Screens = (
    ("1", "overview", "Overview"),
    ("2", "nodes", "Nodes"),
    ("3", "op-types", "Op types"),
    ("4", "inserted", "Inserted"),
    ("5", "kinds", "Layer kinds"),
)
