"""The Windows MSI: WiX source, the payload fragment generator and the Linux build."""
