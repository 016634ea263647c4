# frozen_string_literal: true

# What every LabRunner VM has in common, for vagrant/Vagrantfile (one VM) and
# vagrant/multi/Vagrantfile (two or three on a private network).
#
# A VM is a Debian 12 box with the repository copied to /labrunner and provisioned
# by vagrant/provision.sh, the script CI runs on every build, so a green CI run
# proves this provisioning. The repository goes in with rsync, for both providers
# (Debian's boxes have no VirtualBox guest additions); after editing on the host,
# `vagrant rsync` (or `vagrant rsync-auto`) copies the changes in. Build outputs
# (bin/, obj/) and test results are not copied: the VM builds its own.
#
# Settings from the environment (read at every vagrant command):
#   LABRUNNER_VM_MEMORY  MiB per VM (default 4096; a build wants about 2 GiB)
#   LABRUNNER_VM_CPUS    CPUs per VM (default 2)
module LabRunnerVM
  BOX = "debian/bookworm64"
  # The repository root, one level up from this file.
  REPO = File.expand_path("..", __dir__)
  MOUNT = "/labrunner"
  RSYNC_EXCLUDES = %w[.git .vagrant bin/ obj/ TestResults/ results/ artifacts/].freeze
  # Everything the suite needs, containerd and Docker running, and the article's
  # uplink (ens3 192.168.64.6/24) so `run --host` finds the article's host.
  PROVISION = "bash #{MOUNT}/vagrant/provision.sh --dotnet --runtimes --tools --article-uplink"

  def self.memory
    Integer(ENV.fetch("LABRUNNER_VM_MEMORY", "4096"))
  end

  def self.cpus
    Integer(ENV.fetch("LABRUNNER_VM_CPUS", "2"))
  end

  # Configures one machine: box, hostname, the repository at /labrunner, provider
  # resources, and provisioning. `promiscuous` lets VirtualBox pass frames for
  # MAC addresses other than the NIC's own on the private network (containers
  # bridged onto it in cross-host labs); libvirt's networks already do.
  def self.configure(machine, hostname:, promiscuous: false)
    machine.vm.box = BOX
    machine.vm.hostname = hostname

    machine.vm.synced_folder ".", "/vagrant", disabled: true
    machine.vm.synced_folder REPO, MOUNT, type: "rsync", rsync__exclude: RSYNC_EXCLUDES

    machine.vm.provider :libvirt do |libvirt|
      libvirt.memory = memory
      libvirt.cpus = cpus
    end

    machine.vm.provider :virtualbox do |vb|
      vb.memory = memory
      vb.cpus = cpus
      # NIC 2 is the first private network, when there is one.
      vb.customize ["modifyvm", :id, "--nicpromisc2", "allow-all"] if promiscuous
    end

    # Idempotent and quick when nothing is missing, so it runs on every `vagrant up`
    # and `vagrant reload`: it also brings back what a reboot removes (the
    # article's uplink; the daemons, where systemd has not already).
    machine.vm.provision "labrunner", type: "shell", run: "always", inline: PROVISION
  end
end
