/// The authorizer's settings under Kafka's names.
public struct AuthorizerSettings: Sendable, Hashable {
    /// `authorizer.class.name`: any value turns ACL checks on (Kafka's class names, such as
    /// `org.apache.kafka.metadata.authorizer.StandardAuthorizer`, or simply `creek`); empty
    /// (the default) leaves every request allowed and the ACL APIs answer SECURITY_DISABLED.
    public var className = ""
    /// `super.users`: principals allowed everything, `User:admin;User:ops`.
    public var superUsers: Set<String> = []
    /// `allow.everyone.if.no.acl.found`: a resource without any ACL is open to everyone.
    public var allowEveryoneIfNoAclFound = false

    public var enabled: Bool { !className.isEmpty }

    public init() {}

    static let names = ["authorizer.class.name", "super.users", "allow.everyone.if.no.acl.found"]

    mutating func apply(name: String, value: String) throws(ConfigError) {
        switch name {
        case "authorizer.class.name":
            className = value
        case "super.users":
            let principals = value.split(separator: ";").map { $0.trimmedOfWhitespace }.filter { !$0.isEmpty }
            for principal in principals where !principal.contains(":") {
                throw ConfigError(name: name, value: value, reason: "each principal is TYPE:NAME, such as User:admin, separated by ;")
            }
            superUsers = Set(principals)
        case "allow.everyone.if.no.acl.found":
            allowEveryoneIfNoAclFound = try BrokerConfig.bool(name, value)
        default:
            throw ConfigError(name: name, value: value, reason: "unknown authorizer setting")
        }
    }
}
