print("tacho")
