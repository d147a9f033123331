"""pitboard's Textual app: one module per pane in `panes/`, modals in `screens/`, shared `widgets/`.

It sits above the engine and its command line (`core`), which never import it; the
`pitboard` console script (`launch`) hands the command line a way to open it.
"""
