import NIOSSL
import X509

/// The principal of a client that presented a certificate on an SSL listener: `User:` and
/// the subject (RFC 2253 order, most specific first, as Kafka's `X500Principal.getName()`)
/// mapped through `ssl.principal.mapping.rules`. Nil without a certificate (the client is
/// then `User:ANONYMOUS`).
enum CertificatePrincipal {
    static func principal(of certificate: NIOSSLCertificate?, mapping: PrincipalMapping) -> String? {
        guard let certificate, let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        return "User:" + mapping.name(for: subject(parsed.subject))
    }

    /// `CN=alice,OU=eng,O=Example,C=US`: relative names from the last to the first.
    static func subject(_ name: DistinguishedName) -> String {
        name.reversed().map { rdn in
            // An attribute describes itself as Java does: a short name (CN, OU, O, C, …) or the dotted OID, "=", the value.
            rdn.map { attribute in String(describing: attribute) }.joined(separator: "+")
        }.joined(separator: ",")
    }
}
