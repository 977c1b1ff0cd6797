import Foundation
import SlipwayCore

/// Validates manifests offline against current Kubernetes schemas and the Gateway API CRDs, with
/// `Tests/Fixtures/kube-validate` (which installs its tools on first use).
public enum KubeValidate {
    /// Runs the check on `objects` (written as one JSON document each, which is YAML); its status and output.
    public static func check(_ objects: [JSONValue]) async throws -> (status: Int32, output: String) {
        let directory = try makeTemporaryDirectory("slipway-kube-validate")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = ""
        for object in objects {
            text += "---\n" + String(decoding: try encoder.encode(object), as: UTF8.self) + "\n"
        }
        let file = directory + "/manifests.yaml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        // The first run installs kubernetes-validate from PyPI.
        return try await LabScript.offload {
            try LabScript.run("/bin/bash", [Fixtures.path("kube-validate"), file], seconds: 300)
        }
    }
}
