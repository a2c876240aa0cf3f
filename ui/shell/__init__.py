"""The window shell: the application object, the main window (builds and lays out), menus, theme."""
