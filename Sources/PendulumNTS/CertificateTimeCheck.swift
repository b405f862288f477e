/// How one NTS-KE run judges the validity period of the server's certificate chain.
public enum CertificateTimeCheck: Sendable, Hashable {
    /// Against the local clock, as every TLS client does.
    case againstLocalClock
    /// Everything else is checked (signatures up to a trusted root, host name, constraints);
    /// if the chain is valid but not at the local clock's time, the run still succeeds and
    /// reports the chain's validity period (`CertificateValidity`), so the core can decide
    /// whether independent sources vouch for a time within it. Asked for only before the
    /// first synchronisation, when the local clock may be years off (a board without a
    /// battery-backed RTC boots at 1970 or at its image's build date).
    case deferredUntilAgreement
}

/// When a certificate's validity may be judged by the sources' agreement instead of the local
/// clock (the daemon's `[synchronization] certificate-time-check`).
public enum CertificateTimePolicy: String, Sendable, Hashable, CaseIterable {
    /// Always against the local clock: NTS cannot start on a clock outside the certificates'
    /// validity (chrony's default).
    case always
    /// Before the first synchronisation, a certificate valid at some other time is accepted
    /// provisionally; its source is used only once enough independent NTS sources agree on a
    /// time within every one of their certificates' validity. After that, always.
    case afterAgreement = "after-agreement"
}

/// A certificate chain that checked out except for time: when all of it was valid, and which
/// key the server proved it holds (servers sharing a key count as one operator).
public struct CertificateValidity: Sendable, Hashable {
    /// The latest notBefore and the earliest notAfter along the chain, Unix seconds.
    public var notBefore: Int64
    public var notAfter: Int64
    /// The leaf's subjectPublicKeyInfo.
    public var keyIdentity: [UInt8]

    public init(notBefore: Int64, notAfter: Int64, keyIdentity: [UInt8]) {
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.keyIdentity = keyIdentity
    }
}
