print("tiledrop")
