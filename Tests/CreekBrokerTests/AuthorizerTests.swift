@testable import CreekBroker
import CreekSimulation
import Testing

/// Kafka's authorization rules, decided by `Authorizer` from saved ACLs: super users, deny
/// beating allow, operations that imply DESCRIBE, literal, wildcard and prefixed names, host
/// and principal wildcards, resources without ACLs, filters of DescribeAcls/DeleteAcls, and
/// ACLs kept across a reopen.
@Suite("Authorizer")
struct AuthorizerTests {
    let files = SimulatedFileSystem()

    func authorizer(_ bindings: [AclBinding], allowIfNoAcl: Bool = false) async throws -> Authorizer {
        var settings = AuthorizerSettings()
        settings.className = "creek"
        settings.superUsers = ["User:admin"]
        settings.allowEveryoneIfNoAclFound = allowIfNoAcl
        try files.makeDirectoryDurably("/data")
        let authorizer = try Authorizer(settings: settings, dataDirectory: "/data", files: files)
        try await authorizer.add(bindings)
        return authorizer
    }

    func acl(_ type: AclResourceType, _ name: String, _ operation: AclOperation, _ permission: AclPermission = .allow,
             principal: String = "User:alice", host: String = "*", pattern: AclPatternType = .literal) -> AclBinding {
        AclBinding(resourceType: type, resourceName: name, patternType: pattern, principal: principal, host: host,
                   operation: operation, permission: permission)
    }

    @Test func denyBeatsAllowAndPrefixesMatch() async throws {
        let auth = try await authorizer([
            acl(.topic, "logs.", .all, pattern: .prefixed),
            acl(.topic, "logs.audit", .write, .deny),
        ])
        #expect(auth.authorize("User:alice", host: "1.2.3.4", .write, .topic, "logs.app"))
        #expect(!auth.authorize("User:alice", host: "1.2.3.4", .write, .topic, "logs.audit"))
        #expect(auth.authorize("User:alice", host: "1.2.3.4", .read, .topic, "logs.audit"))
        #expect(!auth.authorize("User:alice", host: "1.2.3.4", .write, .topic, "metrics"))
        #expect(!auth.authorize("User:bob", host: "1.2.3.4", .read, .topic, "logs.app"))
        #expect(auth.authorize("User:admin", host: "1.2.3.4", .write, .topic, "logs.audit"), "super users skip ACLs")
    }

    @Test func impliedOperationsHostsAndWildcards() async throws {
        let auth = try await authorizer([
            acl(.topic, "orders", .read),
            acl(.topic, "*", .alterConfigs, principal: "User:*"),
            acl(.group, "g", .read, host: "10.0.0.1"),
        ])
        #expect(auth.authorize("User:alice", host: "h", .describe, .topic, "orders"), "READ implies DESCRIBE")
        #expect(!auth.authorize("User:alice", host: "h", .write, .topic, "orders"))
        #expect(auth.authorize("User:carol", host: "h", .describeConfigs, .topic, "anything"), "ALTER_CONFIGS implies DESCRIBE_CONFIGS")
        #expect(auth.authorize("User:alice", host: "10.0.0.1", .read, .group, "g"))
        #expect(!auth.authorize("User:alice", host: "10.0.0.2", .read, .group, "g"))
    }

    @Test func resourcesWithoutAclsFollowTheSetting() async throws {
        let closed = try await authorizer([acl(.topic, "orders", .read)])
        #expect(!closed.authorize("User:alice", host: "h", .read, .topic, "free"))
        let open = try await authorizer([acl(.topic, "orders", .read)], allowIfNoAcl: true)
        #expect(open.authorize("User:bob", host: "h", .read, .topic, "free"))
        #expect(!open.authorize("User:bob", host: "h", .read, .topic, "orders"), "a resource with ACLs is closed to others")
        let off = Authorizer(disabledIn: "/data", files: files)
        #expect(off.authorize("User:ANONYMOUS", host: "h", .delete, .cluster, AclResourceType.clusterName))
    }

    @Test func filtersDeleteAndReopen() async throws {
        let auth = try await authorizer([
            acl(.topic, "t1", .read), acl(.topic, "t", .write, principal: "User:bob", pattern: .prefixed), acl(.group, "g", .read),
        ])
        let matchT1 = try #require(AclFilter(resourceType: 2, resourceName: "t1", patternType: 2, principal: nil, host: nil, operation: 1, permission: 1))
        #expect(auth.all.filter { matchT1.matches($0) }.count == 2)
        let bobs = try #require(AclFilter(resourceType: 1, resourceName: nil, patternType: 1, principal: "User:bob", host: nil, operation: 1, permission: 1))
        let removed = try await auth.remove(matching: [bobs])
        #expect(removed.map(\.count) == [1])
        var settings = AuthorizerSettings()
        settings.className = "creek"
        let reopened = try Authorizer(settings: settings, dataDirectory: "/data", files: files)
        #expect(Set(reopened.all) == Set(auth.all) && reopened.all.count == 2)
        #expect(AclFilter(resourceType: 99, resourceName: nil, patternType: 1, principal: nil, host: nil, operation: 1, permission: 1) == nil)
        #expect(AclBinding.problem(resourceType: 4, resourceName: "other", patternType: 3, principal: "User:a", host: "*", operation: 7, permission: 3) != nil)
        #expect(AclBinding.problem(resourceType: 2, resourceName: "t", patternType: 3, principal: "alice", host: "*", operation: 3, permission: 3) != nil)
        #expect(AclBinding.problem(resourceType: 2, resourceName: "t", patternType: 4, principal: "User:a", host: "*", operation: 3, permission: 2) == nil)
    }
}

/// `ssl.principal.mapping.rules` as Kafka reads them.
@Suite("Principal mapping rules")
struct PrincipalMappingTests {
    @Test func firstMatchingRuleWinsWithCaseChanges() throws {
        let mapping = try PrincipalMapping(parsing: "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=.*$/$1@$2/L, DEFAULT")
        #expect(mapping.name(for: "CN=kafka-svc,OU=ServiceUsers,O=Example") == "kafka-svc")
        #expect(mapping.name(for: "CN=Alice,OU=Eng,O=Example") == "alice@eng")
        #expect(mapping.name(for: "CN=bob") == "CN=bob", "DEFAULT keeps the subject")
        #expect(try PrincipalMapping(parsing: "RULE:^CN=(.*)$/$1/U").name(for: "CN=carol") == "CAROL")
        #expect(try PrincipalMapping(parsing: "RULE:^CN=a\\/b$/slashed/").name(for: "CN=a/b") == "slashed")
        #expect(try PrincipalMapping(parsing: "DEFAULT").name(for: "CN=x,O=y") == "CN=x,O=y")
    }

    @Test func malformedRulesAreRefused() {
        #expect(throws: ConfigError.self) { try PrincipalMapping(parsing: "RULE:^CN=(.*)$") }
        #expect(throws: ConfigError.self) { try PrincipalMapping(parsing: "NOTARULE") }
        #expect(throws: ConfigError.self) { try PrincipalMapping(parsing: "RULE:(unclosed/$1/") }
    }
}
