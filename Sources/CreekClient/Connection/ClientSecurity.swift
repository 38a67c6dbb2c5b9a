import NIOSSL

/// How the client reaches brokers: Kafka's `security.protocol`, the SASL login and the TLS
/// trust (PEM files, as librdkafka's `ssl.*.location`). The default is plaintext.
public struct ClientSecurity: Sendable {
    public enum SecurityProtocol: String, Sendable, CaseIterable {
        case plaintext = "PLAINTEXT"
        case ssl = "SSL"
        case saslPlaintext = "SASL_PLAINTEXT"
        case saslSSL = "SASL_SSL"

        var usesTLS: Bool { self == .ssl || self == .saslSSL }
        var usesSASL: Bool { self == .saslPlaintext || self == .saslSSL }
    }

    public var securityProtocol = SecurityProtocol.plaintext
    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    public var saslMechanism = "PLAIN"
    public var username = ""
    public var password = ""
    /// CA certificates (PEM) to trust; the system's when nil.
    public var caFile: String?
    /// A client certificate and its key (PEM), for mutual TLS.
    public var certificateFile: String?
    public var keyFile: String?
    /// Check that the broker's certificate names the host connected to.
    public var verifyHostname = true

    public init() {}

    /// The TLS context for this configuration (nil without TLS); made once per cluster.
    func makeTLSContext() throws -> NIOSSLContext? {
        guard securityProtocol.usesTLS else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.trustRoots = .file(caFile) }
        if let certificateFile, let keyFile {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        tls.certificateVerification = verifyHostname ? .fullVerification : .noHostnameVerification
        return try NIOSSLContext(configuration: tls)
    }
}
