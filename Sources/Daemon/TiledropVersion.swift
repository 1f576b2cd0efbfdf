/// The release version, reported by `--version`, the status socket and MBTiles `generator`.
public enum TiledropVersion {
    public static let string = "0.1.0"
}
