/** What Node-RED's palette manager passes to `npm install` (@node-red/registry/lib/installer.js). */
export const PALETTE_INSTALL_FLAGS = ['--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict'];
