import SlipwayTestSupport

extension SSHLab {
    /// The lab's hosts as entries of a config's top-level `hosts` (two spaces in), each reached as root with the lab's
    /// identity and known hosts, in its own folder; `name` names each one from its index and host.
    func hostEntries(name: (Int, Host) -> String) -> String {
        hosts.enumerated().map { index, host in
            """
              - name: \(name(index, host))
                address: \(host.address)
                user: root
                identityFile: \(identity)
                knownHostsFile: \(knownHosts)
                directory: \(host.root)
            """
        }.joined(separator: "\n")
    }
}
