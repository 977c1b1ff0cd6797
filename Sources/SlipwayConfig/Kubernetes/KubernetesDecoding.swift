import Foundation
import Yams

/// The top-level `kubernetes` and an app's `platform` and `kubernetes`.
extension ConfigDecoder {
    /// The top-level `kubernetes`.
    func cluster(_ entry: Entry) -> ClusterSpec? {
        guard let fields = optionalFields(entry, schema: .cluster) else { return nil }
        var spec = ClusterSpec()
        var reader = SectionReader(fields: fields)
        spec.kubeconfig = reader.read("kubeconfig") { filePath($0) }
        spec.context = reader.read("context") {
            string($0, matching: { !$0.isEmpty && !$0.contains("\n") }, expectation: "a kubeconfig context name")
        }
        spec.inCluster = reader.read("inCluster") { boolean($0) } ?? false
        if spec.inCluster, let written = fields["kubeconfig"] ?? fields["context"] {
            report(
                written.key.location,
                written.path,
                "`\(written.name)` and `inCluster: true` cannot both be set: in the cluster, the controller uses its "
                    + "pod's ServiceAccount"
            )
        }
        return spec
    }

    /// `apps[n].platform` with `apps[n].kubernetes` and `apps[n].hosts`: the app's Kubernetes settings, nil when it
    /// does not run on Kubernetes (or they were refused, after reporting).
    func appKubernetes(
        platform: Entry?,
        settings: Entry?,
        hosts: Entry?,
        run: RunSpec?,
        runEntry: Entry?
    ) -> AppKubernetesSpec? {
        let expectation = "`local` (this machine, or the app's `hosts` over SSH) or `kubernetes`"
        let onKubernetes =
            platform.flatMap {
                string($0, matching: { ["local", "kubernetes"].contains($0) }, expectation: expectation)
            } == "kubernetes"
        guard onKubernetes else {
            if let settings {
                report(
                    settings.key.location,
                    settings.path,
                    "`kubernetes` settings need `platform: kubernetes` on the app"
                )
            }
            return nil
        }
        if let hosts {
            report(hosts.key.location, hosts.path, "an app on Kubernetes runs on the cluster's nodes, not on `hosts`")
        }
        if let run, let runEntry {
            if run.artifact != nil {
                report(
                    runEntry.value.location,
                    KeyPath.join(runEntry.path, "artifact"),
                    "an app on Kubernetes ships each release as its image (`kubernetes.image`), not as an `artifact`"
                )
            }
            if run.stopSignal != .terminate {
                report(
                    runEntry.value.location,
                    KeyPath.join(runEntry.path, "stopSignal"),
                    "Kubernetes stops a container with SIGTERM; `stopSignal` cannot be changed on Kubernetes"
                )
            }
        }
        guard let settings else {
            report(
                platform?.value.location ?? .documentStart,
                platform.map { KeyPath.join(KeyPath.parent(of: $0.path), "kubernetes") } ?? "",
                "an app with `platform: kubernetes` needs `kubernetes` settings with at least `image`"
            )
            return nil
        }
        guard let fields = fields(of: settings.value, at: settings.path, schema: .appKubernetes) else { return nil }
        let image = require("image", in: fields).flatMap {
            string(
                $0,
                matching: { !$0.isEmpty && !$0.contains(where: \.isWhitespace) },
                expectation: "a container image like registry.example/shop:{version}"
            )
        }
        var reader = SectionReader(fields: fields)
        var spec = AppKubernetesSpec(image: image ?? "")
        if let value = reader.read("namespace", { string($0, matching: Self.isDNSLabel, expectation: Self.label) }) {
            spec.namespace = value
        }
        if let value = reader.read("port", { integer($0, in: 1...65535) }) { spec.port = value }
        if let value = reader.read("serviceAccount", { string($0, matching: Self.isDNSName, expectation: Self.name) }) {
            spec.serviceAccount = value
        }
        let policies = ["Always", "IfNotPresent", "Never"]
        if let value = reader.read(
            "imagePullPolicy",
            { string($0, matching: policies.contains, expectation: "`Always`, `IfNotPresent` or `Never`") }
        ) {
            spec.imagePullPolicy = value
        }
        if let value = reader.read("startTimeout", { duration($0, positive: true) }) { spec.startTimeout = value }
        if let resources = optionalFields(fields["resources"], schema: .resources) {
            spec.requests = resources["requests"].flatMap(quantities) ?? [:]
            spec.limits = resources["limits"].flatMap(quantities) ?? [:]
        }
        guard image != nil, reader.accepted("namespace", "port", "serviceAccount", "imagePullPolicy", "startTimeout")
        else { return nil }
        return spec
    }

    /// `cpu` and `memory` quantities (`250m`, `0.5`, `256Mi`, `1G`).
    private func quantities(_ entry: Entry) -> [String: String]? {
        guard let fields = fields(of: entry.value, at: entry.path, schema: .quantities) else { return nil }
        var values: [String: String] = [:]
        for (name, item) in fields.entries {
            let expectation =
                name == "cpu" ? "a CPU quantity like 250m or 0.5" : "a memory quantity like 256Mi or 1G"
            if let value = string(item, matching: Self.isQuantity, expectation: expectation) { values[name] = value }
        }
        return values
    }

    private static let label = "a DNS label like shop (a-z, 0-9 and -, at most 63 characters)"
    private static let name = "a name like shop (a-z, 0-9, - and ., at most 253 characters)"

    static func isDNSLabel(_ text: String) -> Bool {
        text.count <= 63 && text.first.map { $0.isASCII && ($0.isLowercase || $0.isNumber) } == true
            && text.last.map { $0.isASCII && ($0.isLowercase || $0.isNumber) } == true
            && text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    static func isDNSName(_ text: String) -> Bool {
        text.count <= 253
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
                isDNSLabel(String($0))
            }
    }

    /// A Kubernetes quantity: a decimal number with an optional SI or binary suffix.
    static func isQuantity(_ text: String) -> Bool {
        text.range(of: #"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"#, options: .regularExpression) != nil
    }
}
