"""Packaging for hospital IT: the PyInstaller bundle, the MSI, the macOS app and the .deb."""
