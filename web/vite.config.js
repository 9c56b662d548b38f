import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Large vendors go to their own chunks so no chunk passes 600 KB gzipped.
function manualChunks(id) {
  if (!id.includes('node_modules')) return undefined
  if (id.includes('/echarts/') || id.includes('/zrender/')) return 'echarts'
  if (id.includes('/element-plus/') || id.includes('/@element-plus/') || id.includes('/@vueuse/') ||
      id.includes('/@floating-ui/') || id.includes('/async-validator/') || id.includes('/dayjs/') ||
      id.includes('/lodash')) return 'element-plus'
  return 'vendor'
}

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 1500,
    rollupOptions: { output: { manualChunks } },
  },
  server: {
    proxy: { '/api': process.env.GONGZHI_API || 'http://127.0.0.1:18181' },
  },
})
