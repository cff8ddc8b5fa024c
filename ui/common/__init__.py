"""What every feature of the window shares: theme, icons, widgets, dialogs, formatting, the worker thread,
the base of a centre view with its plots, and the one editor of a setting."""
