import Foundation

/// A real Kubernetes control plane on loopback, for tests of Slipway on Kubernetes: `Tests/Fixtures/kube-lab` starts
/// etcd, kube-apiserver and kube-controller-manager (v1.20.2, built from Debian's source package by
/// `kube-lab-build`, cached outside the clone). A test kubelet (`kube-lab-kubelet`) binds pods and runs their commands as processes of this machine, each on a loopback address of its own. ``stop()`` stops every process
/// by PID; ``with(_:)`` calls it however the test ends.
public final class KubeLab: Sendable {
    /// The folder holding the lab: certificates, etcd's data, logs, `kubeconfig`.
    public let directory: String
    /// The API server's URL (`https://127.0.0.1:PORT`).
    public let server: String
    /// A bearer token of `system:masters`.
    public let token: String
    /// The PEM of the CA that signed the server's certificate.
    public let certificateAuthority: String
    /// A kubeconfig file for the lab.
    public var kubeconfig: String { directory + "/kubeconfig" }

    private init(directory: String, server: String, token: String, certificateAuthority: String) {
        self.directory = directory
        self.server = server
        self.token = token
        self.certificateAuthority = certificateAuthority
    }

    /// Runs `body` with a new lab, and stops it however it ends.
    public static func with<T: Sendable>(_ body: (KubeLab) async throws -> T) async throws -> T {
        let lab = try await LabScript.offload { try startNow() }
        return try await LabScript.using(lab, stop: { await $0.stop() }, body)
    }

    private static func startNow() throws -> KubeLab {
        let directory = try makeTemporaryDirectory("slipway-kube-lab")
        // A cold build of the server takes about 8 minutes; scripts/test builds it before the tests run.
        let run = try script(["up", directory], seconds: 1200)
        guard run.status == 0 else {
            _ = try? script(["down", directory])
            throw KubeLabError("kube-lab up failed (\(run.status)): \(run.output)")
        }
        let text = try String(contentsOfFile: directory + "/lab.env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let server = values["KUBE_API"], let token = values["KUBE_TOKEN"], let ca = values["KUBE_CA"],
            let authority = try? String(contentsOfFile: ca, encoding: .utf8)
        else {
            _ = try? script(["down", directory])
            throw KubeLabError("kube-lab wrote no usable lab.env: \(text)")
        }
        return KubeLab(directory: directory, server: server, token: token, certificateAuthority: authority)
    }

    /// Stops the API server and starts it again on the same port and data (watches break; old versions expire).
    public func restartAPIServer() async throws {
        let run = try await LabScript.offload { [directory] in try Self.script(["restart-api", directory]) }
        guard run.status == 0 else { throw KubeLabError("kube-lab restart-api failed: \(run.output)") }
    }

    /// The last lines a component logged (`kube-apiserver`, `kube-controller-manager`, `etcd`).
    public func log(of component: String, lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: "\(directory)/\(component).log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Stops every process by PID, then removes the lab's folder (etcd alone keeps 60 MB there). Calling it again
    /// does nothing.
    public func stop() async {
        _ = try? await LabScript.offload { [directory] in try Self.script(["down", directory]) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func script(_ arguments: [String], seconds: Double = 120) throws -> (status: Int32, output: String) {
        try LabScript.run("/bin/bash", [Fixtures.path("kube-lab")] + arguments, seconds: seconds)
    }
}

/// The lab could not be started or changed.
public struct KubeLabError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
