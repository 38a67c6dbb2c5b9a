/// A SCRAM user given on the command line (`creek serve --add-scram`), in the syntax of
/// Kafka's `kafka-storage format --add-scram`: `SCRAM-SHA-256=[name=alice,password=secret]`
/// (optionally `,iterations=8192`). Saved over any existing credential of that user and
/// mechanism when the broker opens, so a SASL-only broker can be reached at all.
public struct ScramBootstrap: Sendable, Hashable {
    public var mechanism: ScramMechanism
    public var user: String
    public var password: String
    public var iterations: Int32

    public init(parsing text: String) throws(ConfigError) {
        func refuse(_ reason: String) -> ConfigError { ConfigError(name: "--add-scram", value: text, reason: reason) }
        guard let equals = text.firstIndex(of: "=") else { throw refuse("expected MECHANISM=[name=USER,password=PASSWORD]") }
        guard let mechanism = ScramMechanism(rawValue: String(text[..<equals]).uppercased()) else {
            throw refuse("mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512")
        }
        var body = text[text.index(after: equals)...]
        guard body.first == "[", body.last == "]" else { throw refuse("the user goes in brackets: [name=USER,password=PASSWORD]") }
        body = body.dropFirst().dropLast()
        var fields: [String: String] = [:]
        for pair in body.split(separator: ",") {
            guard let separator = pair.firstIndex(of: "=") else { throw refuse("expected KEY=VALUE in the brackets") }
            fields[String(pair[..<separator]).lowercased()] = String(pair[pair.index(after: separator)...])
        }
        guard let user = fields["name"], !user.isEmpty else { throw refuse("name= is required") }
        guard let password = fields["password"], !password.isEmpty else { throw refuse("password= is required") }
        let iterations = Int32(fields["iterations"] ?? "8192") ?? 0
        guard ScramMechanism.iterations.contains(iterations) else { throw refuse("iterations must be 4096-16384") }
        self.mechanism = mechanism
        self.user = user
        self.password = password
        self.iterations = iterations
    }
}
