/// The admin HTTP listener (`/metrics`, `/health/*`, the console and `/api/`): where it
/// listens (nil: off), whether failing to bind is fatal, and whether the console may change
/// things (create and delete topics, reset offsets). Metrics recording is separate
/// (`metricsEnabled`), so its cost can be measured with the listener on or off.
public struct AdminHTTPSettings: Sendable, Hashable {
    public var host: String? = "127.0.0.1"
    public var port = 9644
    /// False for the built-in default address: a second broker on the same machine then
    /// runs without the listener (logged) instead of failing to start. True when the
    /// address was given explicitly.
    public var required = false
    /// `--http-admin`: allow the console's actions.
    public var actionsEnabled = false
    /// Record metrics on the request path (`--metrics off` turns recording off).
    public var metricsEnabled = true

    public init() {}

    /// `--http HOST:PORT` or `off`.
    public mutating func apply(listen value: String) throws(ConfigError) {
        if value == "off" {
            host = nil
            return
        }
        guard let (host, port) = BrokerConfig.hostPort(value) else {
            throw ConfigError(name: "--http", value: value, reason: "expected HOST:PORT or off")
        }
        self.host = host
        self.port = port
        required = true
    }
}
