/// Kafka's ACL vocabulary, with the numbers the ACL APIs use.
public enum AclResourceType: Int8, Sendable, Codable, CaseIterable {
    case unknown = 0, any = 1, topic = 2, group = 3, cluster = 4, transactionalId = 5, delegationToken = 6, user = 7

    /// The single name of the cluster resource.
    public static let clusterName = "kafka-cluster"
}

public enum AclPatternType: Int8, Sendable, Codable {
    case unknown = 0, any = 1, match = 2, literal = 3, prefixed = 4
}

public enum AclOperation: Int8, Sendable, Codable, CaseIterable {
    case unknown = 0, any = 1, all = 2, read = 3, write = 4, create = 5, delete = 6, alter = 7, describe = 8
    case clusterAction = 9, describeConfigs = 10, alterConfigs = 11, idempotentWrite = 12, createTokens = 13, describeTokens = 14

    /// Operations an ALLOW of this one also allows: Kafka lets READ, WRITE, DELETE and
    /// ALTER imply DESCRIBE, and ALTER_CONFIGS imply DESCRIBE_CONFIGS.
    func allows(_ requested: AclOperation) -> Bool {
        if self == .all || self == requested { return true }
        switch requested {
        case .describe: return [.read, .write, .delete, .alter].contains(self)
        case .describeConfigs: return self == .alterConfigs
        default: return false
        }
    }
}

public enum AclPermission: Int8, Sendable, Codable {
    case unknown = 0, any = 1, deny = 2, allow = 3
}

/// One ACL: who (`principal`, `host`) may or may not (`permission`) do `operation` on the
/// resources named by `resourceName` and `patternType` (the exact name, `*` for all, or
/// every name with that prefix). Invariant: no field is `unknown`, `any` or `match`.
public struct AclBinding: Sendable, Hashable, Codable {
    public var resourceType: AclResourceType
    public var resourceName: String
    public var patternType: AclPatternType
    public var principal: String
    public var host: String
    public var operation: AclOperation
    public var permission: AclPermission

    /// Why a requested binding cannot be stored, or nil when it can (Kafka's checks).
    static func problem(
        resourceType: Int8, resourceName: String, patternType: Int8, principal: String, host: String, operation: Int8, permission: Int8
    ) -> String? {
        guard let type = AclResourceType(rawValue: resourceType), ![.unknown, .any].contains(type) else { return "Invalid resource type \(resourceType)." }
        guard let pattern = AclPatternType(rawValue: patternType), [.literal, .prefixed].contains(pattern) else {
            return "The pattern type must be LITERAL or PREFIXED."
        }
        guard !resourceName.isEmpty else { return "The resource name must not be empty." }
        if type == .cluster && (resourceName != AclResourceType.clusterName || pattern != .literal) {
            return "The cluster resource is LITERAL kafka-cluster."
        }
        guard let separator = principal.firstIndex(of: ":"), separator != principal.startIndex, principal.index(after: separator) != principal.endIndex else {
            return "The principal must be TYPE:NAME, such as User:alice."
        }
        guard !host.isEmpty else { return "The host must be an address or *." }
        guard let op = AclOperation(rawValue: operation), ![.unknown, .any].contains(op) else { return "Invalid operation \(operation)." }
        guard let perm = AclPermission(rawValue: permission), [.allow, .deny].contains(perm) else { return "The permission must be ALLOW or DENY." }
        return nil
    }
}

/// A DescribeAcls or DeleteAcls filter: `any` (and a nil string) matches everything;
/// pattern MATCH matches the bindings that apply to the named resource (literal equal or
/// `*`, and prefixes of it).
public struct AclFilter: Sendable {
    public var resourceType: AclResourceType
    public var resourceName: String?
    public var patternType: AclPatternType
    public var principal: String?
    public var host: String?
    public var operation: AclOperation
    public var permission: AclPermission

    /// Nil when a field holds a number Kafka does not define (INVALID_REQUEST).
    init?(resourceType: Int8, resourceName: String?, patternType: Int8, principal: String?, host: String?, operation: Int8, permission: Int8) {
        guard let type = AclResourceType(rawValue: resourceType), type != .unknown,
              let pattern = AclPatternType(rawValue: patternType), pattern != .unknown,
              let op = AclOperation(rawValue: operation), op != .unknown,
              let perm = AclPermission(rawValue: permission), perm != .unknown
        else { return nil }
        self.resourceType = type
        self.resourceName = resourceName
        self.patternType = pattern
        self.principal = principal
        self.host = host
        self.operation = op
        self.permission = perm
    }

    func matches(_ binding: AclBinding) -> Bool {
        guard resourceType == .any || resourceType == binding.resourceType else { return false }
        guard principal == nil || principal == binding.principal else { return false }
        guard host == nil || host == binding.host else { return false }
        guard operation == .any || operation == binding.operation else { return false }
        guard permission == .any || permission == binding.permission else { return false }
        switch patternType {
        case .any:
            return resourceName == nil || resourceName == binding.resourceName
        case .match:
            guard let name = resourceName else { return true }
            switch binding.patternType {
            case .literal: return binding.resourceName == name || binding.resourceName == "*"
            case .prefixed: return name.hasPrefix(binding.resourceName)
            default: return false
            }
        default:
            return patternType == binding.patternType && (resourceName == nil || resourceName == binding.resourceName)
        }
    }
}
