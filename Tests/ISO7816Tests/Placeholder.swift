// ISO7816Tests
