import Logging
import NIOConcurrencyHelpers
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// The TLS server context of the SSL listeners, built from `TLSSettings`, and rebuilt on
/// `reload()` (SIGHUP, or a changed keystore or truststore file): new connections get the
/// new certificates; connections already open keep the context they started with, so a
/// reload drops none. A reload that fails (a half-written file) keeps the old context.
final class TLSContextProvider: Sendable {
    private let settings: TLSSettings
    private let logger: Logger
    private let state: NIOLockedValueBox<(context: NIOSSLContext, stamps: [String: Int64])>

    init(settings: TLSSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        state = NIOLockedValueBox((try Self.makeContext(settings), Self.fileStamps(settings)))
    }

    var current: NIOSSLContext { state.withLockedValue { $0.context } }

    static func makeContext(_ settings: TLSSettings) throws -> NIOSSLContext {
        guard let keystore = settings.keystoreLocation else { throw TLSSetupError("ssl.keystore.location is not set") }
        let certificates = try NIOSSLCertificate.fromPEMFile(keystore)
        guard !certificates.isEmpty else { throw TLSSetupError("\(keystore) holds no certificate") }
        let key: NIOSSLPrivateKey
        if let password = settings.keyPassword {
            key = try NIOSSLPrivateKey(file: keystore, format: .pem) { (setter: ([UInt8]) -> Void) in setter(Array(password.utf8)) }
        } else {
            key = try NIOSSLPrivateKey(file: keystore, format: .pem)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = settings.enabledProtocols.contains("TLSv1.2") ? .tlsv12 : .tlsv13
        configuration.maximumTLSVersion = settings.enabledProtocols.contains("TLSv1.3") ? .tlsv13 : .tlsv12
        if let truststore = settings.truststoreLocation {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(truststore))
        }
        switch settings.clientAuth {
        case .none: configuration.certificateVerification = .none
        case .requested: configuration.certificateVerification = .optionalVerification
        case .required: configuration.certificateVerification = .noHostnameVerification
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// Rebuilds the context from the files; returns whether it changed.
    @discardableResult
    func reload(reason: String) -> Bool {
        do {
            let context = try Self.makeContext(settings)
            state.withLockedValue { $0 = (context, Self.fileStamps(settings)) }
            logger.notice("reloaded TLS certificates", metadata: ["reason": "\(reason)"])
            return true
        } catch {
            logger.error("TLS reload failed; keeping the previous certificates", metadata: ["reason": "\(reason)", "error": "\(error)"])
            return false
        }
    }

    /// Reloads when a keystore or truststore file changed since the last load.
    func reloadIfFilesChanged() {
        let stamps = Self.fileStamps(settings)
        guard stamps != state.withLockedValue({ $0.stamps }) else { return }
        reload(reason: "certificate files changed")
    }

    /// Each file's modification time and size, to notice a replaced file.
    private static func fileStamps(_ settings: TLSSettings) -> [String: Int64] {
        var stamps: [String: Int64] = [:]
        for path in [settings.keystoreLocation, settings.truststoreLocation].compactMap({ $0 }) {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            stamps[path] = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec) &+ Int64(info.st_size) &* 31
        }
        return stamps
    }
}

/// A TLS setting that cannot be used, with what to fix.
struct TLSSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
