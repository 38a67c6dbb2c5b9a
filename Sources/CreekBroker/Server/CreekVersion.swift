/// Creek's release version, shown by `creek --version`, the console and `/api/cluster`.
public enum CreekVersion {
    public static let current = "0.2.0"
}
