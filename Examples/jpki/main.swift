print("jpki: not built yet")
