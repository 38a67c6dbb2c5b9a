@testable import CreekPostgres
import Testing

@Suite("PostgreSQL storage URLs")
struct PostgresURLTests {
    @Test("user, password, host, port and database are read, escapes decoded")
    func fullURL() throws {
        let config = try PostgresURL.configuration("postgres://creek%40ops:p%3Ass@db.example:6543/events")
        #expect(config.username == "creek@ops")
        #expect(config.password == "p:ss")
        #expect(config.host == "db.example")
        #expect(config.port == 6543)
        #expect(config.database == "events")
    }

    @Test("defaults: user postgres, port 5432, no password; postgresql:// and IPv6 hosts")
    func defaults() throws {
        let config = try PostgresURL.configuration("postgresql://[::1]/creek")
        #expect(config.username == "postgres")
        #expect(config.password == nil)
        #expect(config.host == "::1")
        #expect(config.port == 5432)
    }

    @Test("malformed URLs are refused with a reason", arguments: [
        "mysql://u@h/db", "postgres://u@h:99999/db", "postgres://u@h:abc/db", "postgres://u@h", "postgres://u@h:5432/",
        "postgres://u@h/db?sslmode=sometimes",
    ])
    func refused(url: String) {
        #expect(throws: (any Error).self) { try PostgresURL.configuration(url) }
    }
}
