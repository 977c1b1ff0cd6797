import Foundation
import SlipwayTestSupport
import Testing

@testable import SlipwayKubernetes

/// Kubeconfig files as kubectl writes them: files beside them, `-data` fields, token files, and what Slipway refuses.
@Suite struct KubeconfigTests {
    static let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    static func file(_ text: String, beside files: [String: String] = [:]) throws -> String {
        let folder = try makeTemporaryDirectory("slipway-kubeconfig")
        for (name, content) in files {
            try content.write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8)
        }
        let path = folder + "/config"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let twoContexts = """
        apiVersion: v1
        kind: Config
        current-context: lab
        clusters:
        - name: lab
          cluster: {server: "https://127.0.0.1:6443/", certificate-authority: ca.crt}
        - name: prod
          cluster: {server: "https://k8s.example:443", certificate-authority-data: \(Data(pem.utf8).base64EncodedString())}
        users:
        - name: lab
          user: {tokenFile: token}
        - name: ci
          user: {client-certificate-data: \(Data(pem.utf8).base64EncodedString()), client-key: key.pem}
        - name: sso
          user: {exec: {command: aws, args: [eks, get-token]}}
        contexts:
        - name: lab
          context: {cluster: lab, user: lab}
        - name: prod
          context: {cluster: prod, user: ci}
        - name: sso
          context: {cluster: prod, user: sso}
        """

    @Test func theCurrentContextReadsFilesBesideTheConfigAndAnotherContextReadsDataFields() throws {
        let path = try Self.file(Self.twoContexts, beside: ["ca.crt": Self.pem, "token": "abc123\n", "key.pem": "KEY"])
        let lab = try Kubeconfig.credentials(file: path)
        #expect(lab.server == "https://127.0.0.1:6443" && lab.token == "abc123")
        #expect(lab.certificateAuthority == Self.pem && lab.clientCertificate == nil)
        #expect(lab.origin == "kubeconfig \(path), context lab")
        let prod = try Kubeconfig.credentials(file: path, context: "prod")
        #expect(prod.server == "https://k8s.example:443" && prod.certificateAuthority == Self.pem)
        #expect(prod.clientCertificate == Self.pem && prod.clientKey == "KEY" && prod.token == nil)
    }

    @Test func whatCannotBeUsedNamesTheKeyAndWhatWouldDo() throws {
        let path = try Self.file(Self.twoContexts, beside: ["ca.crt": Self.pem, "token": "abc"])
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let cases: [(String?, String)] = [
            ("sso", "users[sso].user.exec: credential plugins are not run by Slipway; give the user a token"),
            ("staging", "contexts: has no entry named \"staging\" (lab, prod, sso)"),
            (
                "prod",
                "users[ci].user.client-key: \(folder)/key.pem cannot be read"
            ),
        ]
        for (context, expected) in cases {
            #expect {
                _ = try Kubeconfig.credentials(file: path, context: context)
            } throws: { error in
                "\(error)" == "\(path): \(expected)" || "\(error)".hasPrefix("\(path): \(expected)")
            }
        }
        let noServer = try Self.file(
            "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                + "clusters: [{name: c, cluster: {server: localhost}}]\n"
        )
        let expected = KubeconfigError(file: noServer, key: "clusters[c].cluster.server", "expected an https:// URL")
        #expect(throws: expected) { _ = try Kubeconfig.credentials(file: noServer) }
    }
}
