import ArgumentParser
import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayKubernetes
import Yams

/// `slipway kubernetes manifests`: what installs the controller in a cluster.
struct KubernetesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubernetes",
        abstract: "Work with the Kubernetes cluster of the config's apps.",
        subcommands: [KubernetesManifestsCommand.self]
    )
}

/// Prints the manifests that install a controller for the config in a cluster, as YAML documents.
struct KubernetesManifestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifests",
        abstract: "Print what installs the controller in the cluster (kubectl apply -f -).",
        discussion: """
            The controller's namespace and ServiceAccount, a Role and RoleBinding in each app's namespace with the \
            rights it needs, the config as a ConfigMap, a PersistentVolumeClaim for its state, its Deployment (one \
            pod, with its data plane) and a Service per app. Exits 2, printing nothing, when the config cannot run \
            in a cluster (an app not on Kubernetes, or listening on a loopback address).
            """
    )

    @OptionGroup var config: ConfigOptions

    @Option(help: "The controller's namespace.")
    var namespace = "slipway"

    @Option(help: "The controller's image, with slipway, slipway-dataplane and slipway-supervisor on its PATH.")
    var image: String

    @Option(help: "The size of the state volume, like 1Gi.")
    var storage = "1Gi"

    func run() async throws {
        let loaded = try config.load()
        guard let text = try? String(contentsOfFile: config.file, encoding: .utf8) else {
            FileHandle.standardErrorWrite("error: cannot read \(config.file)")
            throw ExitCode(ExitStatus.badInput)
        }
        let objects: [JSONValue]
        do {
            objects = try InstallManifests.render(
                loaded,
                configText: text,
                options: InstallManifests.Options(namespace: namespace, image: image, storage: storage)
            )
        } catch {
            FileHandle.standardErrorWrite("error: \(error.description)")
            throw ExitCode(ExitStatus.badInput)
        }
        var output = ""
        for object in objects {
            output += "---\n" + (try Yams.dump(object: Self.plain(object), sortKeys: true))
        }
        print(output, terminator: "")
    }

    /// The value as Foundation types, for the YAML writer.
    static func plain(_ value: JSONValue) -> Any {
        switch value {
        case .string(let text): return text
        case .int(let number): return number
        case .double(let number): return number
        case .bool(let flag): return flag
        case .null: return NSNull()
        case .array(let items): return items.map(plain)
        case .object(let fields): return fields.mapValues(plain)
        }
    }
}
