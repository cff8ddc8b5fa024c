"""Finding one's way in the window: the view switcher over the centre's views and the welcome page of the
book's chapters and the course's topics. The main window owns them; they import only ``ui.common`` and the
engine."""
