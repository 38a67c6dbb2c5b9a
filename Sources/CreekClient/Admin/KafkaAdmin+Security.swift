import KafkaProtocol
import NIOCore

/// One ACL as the ACL APIs carry it (Kafka's numbers: resource type 2 topic, 3 group,
/// 4 cluster, 5 transactional id; pattern 3 literal, 4 prefixed; operation 2 all, 3 read,
/// 4 write, … 12 idempotent write; permission 2 deny, 3 allow). As a filter, 1 (ANY) and
/// nil strings match everything, and pattern 2 (MATCH) every ACL that applies to a name.
public struct AclEntry: Sendable, Hashable {
    public var resourceType: Int8
    public var resourceName: String?
    public var patternType: Int8
    public var principal: String?
    public var host: String?
    public var operation: Int8
    public var permission: Int8

    public init(resourceType: Int8, resourceName: String?, patternType: Int8, principal: String?, host: String?, operation: Int8, permission: Int8) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }
}

/// A user's SCRAM credential as DescribeUserScramCredentials reports it (never the keys).
public struct ScramCredentialInfo: Sendable, Hashable {
    /// 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
    public var mechanism: Int8
    public var iterations: Int32
}

extension KafkaAdmin {
    // MARK: - SCRAM users

    /// Each user's SCRAM mechanisms and iteration counts (every user when `users` is nil).
    public func describeUserScramCredentials(_ users: [String]? = nil) async throws -> [String: [ScramCredentialInfo]] {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .describeUserScramCredentials, supported: 0...0)
        var request = DescribeUserScramCredentialsRequest()
        request.users = users?.map { .init(name: $0) }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        try KafkaClientError.check(response.errorCode, "describe SCRAM users", message: response.errorMessage)
        var result: [String: [ScramCredentialInfo]] = [:]
        for user in response.results {
            try KafkaClientError.check(user.errorCode, "describe SCRAM user \(user.user)", message: user.errorMessage)
            result[user.user] = user.credentialInfos.map { ScramCredentialInfo(mechanism: $0.mechanism, iterations: $0.iterations) }
        }
        return result
    }

    /// Sets a user's credential from a salted password (the client salts; the broker never
    /// sees the password), or deletes it when `saltedPassword` is nil.
    public func alterUserScramCredential(
        user: String, mechanism: Int8, iterations: Int32 = 0, salt: [UInt8] = [], saltedPassword: [UInt8]?
    ) async throws {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .alterUserScramCredentials, supported: 0...0)
        var request = AlterUserScramCredentialsRequest()
        if let saltedPassword {
            request.upsertions = [.init(name: user, mechanism: mechanism, iterations: iterations, salt: ByteBuffer(bytes: salt),
                                        saltedPassword: ByteBuffer(bytes: saltedPassword))]
        } else {
            request.deletions = [.init(name: user, mechanism: mechanism)]
        }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        for result in response.results {
            try KafkaClientError.check(result.errorCode, "change SCRAM user \(result.user)", message: result.errorMessage)
        }
    }

    // MARK: - ACLs

    public func createAcls(_ acls: [AclEntry]) async throws {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .createAcls, supported: 1...3)
        var request = CreateAclsRequest()
        request.creations = acls.map {
            .init(resourceType: $0.resourceType, resourceName: $0.resourceName ?? "", resourcePatternType: $0.patternType,
                  principal: $0.principal ?? "", host: $0.host ?? "*", operation: $0.operation, permissionType: $0.permission)
        }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        for result in response.results {
            try KafkaClientError.check(result.errorCode, "create ACL", message: result.errorMessage)
        }
    }

    /// The ACLs `filter` matches.
    public func describeAcls(_ filter: AclEntry) async throws -> [AclEntry] {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .describeAcls, supported: 1...3)
        let request = DescribeAclsRequest(
            resourceTypeFilter: filter.resourceType, resourceNameFilter: filter.resourceName, patternTypeFilter: filter.patternType,
            principalFilter: filter.principal, hostFilter: filter.host, operation: filter.operation, permissionType: filter.permission
        )
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        try KafkaClientError.check(response.errorCode, "describe ACLs", message: response.errorMessage)
        return response.resources.flatMap { resource in
            resource.acls.map {
                AclEntry(resourceType: resource.resourceType, resourceName: resource.resourceName, patternType: resource.patternType,
                         principal: $0.principal, host: $0.host, operation: $0.operation, permission: $0.permissionType)
            }
        }
    }

    /// Deletes the ACLs `filter` matches; returns them.
    public func deleteAcls(_ filter: AclEntry) async throws -> [AclEntry] {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .deleteAcls, supported: 1...3)
        var request = DeleteAclsRequest()
        request.filters = [.init(
            resourceTypeFilter: filter.resourceType, resourceNameFilter: filter.resourceName, patternTypeFilter: filter.patternType,
            principalFilter: filter.principal, hostFilter: filter.host, operation: filter.operation, permissionType: filter.permission
        )]
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        var deleted: [AclEntry] = []
        for result in response.filterResults {
            try KafkaClientError.check(result.errorCode, "delete ACLs", message: result.errorMessage)
            deleted += result.matchingAcls.map {
                AclEntry(resourceType: $0.resourceType, resourceName: $0.resourceName, patternType: $0.patternType,
                         principal: $0.principal, host: $0.host, operation: $0.operation, permission: $0.permissionType)
            }
        }
        return deleted
    }
}

/// A client-quota entity: the user and the client id, each absent (nil), the default
/// (`.some(nil)`) or named.
public struct QuotaEntity: Sendable, Hashable {
    public var user: String??
    public var clientId: String??

    public init(user: String?? = nil, clientId: String?? = nil) {
        self.user = user
        self.clientId = clientId
    }
}

extension KafkaAdmin {
    // MARK: - Client quotas

    /// Every quota entity with its values (producer_byte_rate, consumer_byte_rate, …).
    public func describeClientQuotas() async throws -> [QuotaEntity: [String: Double]] {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .describeClientQuotas, supported: 0...1)
        let response = try await connection.send(DescribeClientQuotasRequest(components: [], strict: false), version: version, timeout: config.requestTimeout)
        try KafkaClientError.check(response.errorCode, "describe client quotas", message: response.errorMessage)
        var result: [QuotaEntity: [String: Double]] = [:]
        for entry in response.entries ?? [] {
            var entity = QuotaEntity()
            for part in entry.entity {
                if part.entityType == "user" { entity.user = .some(part.entityName) }
                if part.entityType == "client-id" { entity.clientId = .some(part.entityName) }
            }
            result[entity] = Dictionary(entry.values.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        }
        return result
    }

    /// Sets (a value) or removes (nil) quota values of one entity.
    public func alterClientQuotas(_ entity: QuotaEntity, _ values: [String: Double?]) async throws {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .alterClientQuotas, supported: 0...1)
        var parts: [AlterClientQuotasRequest.EntityData] = []
        if let user = entity.user { parts.append(.init(entityType: "user", entityName: user)) }
        if let client = entity.clientId { parts.append(.init(entityType: "client-id", entityName: client)) }
        var request = AlterClientQuotasRequest()
        request.entries = [.init(entity: parts, ops: values.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value ?? 0, remove: $0.value == nil) })]
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        for entry in response.entries {
            try KafkaClientError.check(entry.errorCode, "alter client quotas", message: entry.errorMessage)
        }
    }
}
