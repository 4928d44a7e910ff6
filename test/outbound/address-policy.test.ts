import t from 'tap'
import { isRefusedAddress } from '../../src/outbound/index.js'

const refused = [
  '127.0.0.1', '127.255.255.254', '0.0.0.0', '0.1.2.3',
  '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1',
  '169.254.0.1', '169.254.169.254', '100.64.0.1', '100.127.255.255', '100.100.100.200',
  '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255',
  '192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1', '192.0.0.8',
  '::', '::1', '[::1]', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'fc00::1', 'fd12:3456::1', 'fd00:ec2::254',
  'ff02::1', 'fec0::1', '100::1', '64:ff9b:1::1', '2001:db8::1', '2001::1', '3fff::1',
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:7F00:0001', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe',
  '::ffff:10.0.0.1', '::127.0.0.1', '::7f00:1', '::ffff:0:7f00:1',
  '64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe', '64:ff9b::c0a8:101',
  '2002:7f00:1::', '2002:a9fe:a9fe::1', '2002:c0a8:0101::1',
  'localhost', 'example.com', '', '127.1', '0x7f000001', '2130706433', '010.0.0.1', 'not-an-ip'
]

const allowed = [
  '8.8.8.8', '1.1.1.1', '140.82.112.3', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1',
  '169.253.255.255', '11.0.0.1', '223.255.255.255', '192.169.0.1',
  '2606:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001::200e', '2620:0:2d0:200::7',
  '::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::8.8.8.8', '2002:808:808::1'
]

t.test('refuses private, loopback, link-local, metadata, reserved and their IPv6 embeddings', async (t) => {
  for (const address of refused) t.equal(isRefusedAddress(address), true, address)
})

t.test('allows public IPv4 and global IPv6, including public IPv4 embedded in IPv6', async (t) => {
  for (const address of allowed) t.equal(isRefusedAddress(address), false, address)
})
