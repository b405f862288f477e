/// Which release these binaries are: what `--version` prints in every one of them, and what
/// packages are versioned by. Here because every binary links this module.
public enum PendulumRelease {
    public static let version = "0.1.0"

    /// The line `--version` prints, e.g. "pendulum-ntpd (Pendulum) 0.1.0".
    public static func versionLine(program: String) -> String {
        "\(program) (Pendulum) \(version)"
    }
}
