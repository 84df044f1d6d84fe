package headwater.nexmark;

import java.io.FileInputStream;
import java.io.FileWriter;
import java.io.IOException;
import java.lang.management.ManagementFactory;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.api.python.shaded.org.apache.arrow.memory.BufferAllocator;
import org.apache.flink.api.python.shaded.org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.flink.api.python.shaded.org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.flink.streaming.api.functions.source.legacy.RichSourceFunction;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.arrow.ArrowReader;
import org.apache.flink.table.runtime.arrow.ArrowUtils;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;

/**
 * Emits every row of an Arrow stream file, batch by batch, as {@code ColumnarRowData} over the loaded
 * vectors (the same path as Flink's {@code ArrowSourceFunction}, reading a file instead of bytes held in
 * the plan). Bounded: the job ends when the file does.
 *
 * <p>With a timing file, it appends one line when the file is exhausted: {@code rows wall_ns cpu_ns}, the
 * rows emitted, the wall time from opening the file to emitting the last row, and the JVM's CPU time
 * (every thread: task, GC, JIT) over the same window. Downstream operators are chained into this
 * source's thread, so the window is the job's processing time without its start-up and shutdown.
 */
final class ArrowFileSourceFunction extends RichSourceFunction<RowData> implements ResultTypeQueryable<RowData> {

    private static final long serialVersionUID = 1L;

    private final DataType rowType;
    private final String path;
    private final String timingPath;
    private volatile boolean running = true;

    ArrowFileSourceFunction(DataType rowType, String path, String timingPath) {
        this.rowType = rowType;
        this.path = path;
        this.timingPath = timingPath;
    }

    private static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean bean = ManagementFactory.getOperatingSystemMXBean();
        if (bean instanceof com.sun.management.OperatingSystemMXBean) {
            return ((com.sun.management.OperatingSystemMXBean) bean).getProcessCpuTime();
        }
        return -1;
    }

    @Override
    public void run(SourceContext<RowData> context) throws Exception {
        RowType logical = (RowType) rowType.getLogicalType();
        long startWall = System.nanoTime();
        long startCpu = processCpuNanos();
        long rowsEmitted = 0;
        try (BufferAllocator allocator =
                        ArrowUtils.getRootAllocator().newChildAllocator("headwater-arrow-file", 0, Long.MAX_VALUE);
                FileInputStream input = new FileInputStream(path);
                ArrowStreamReader reader = new ArrowStreamReader(input.getChannel(), allocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            while (running && reader.loadNextBatch()) {
                ArrowReader rows = ArrowUtils.createArrowReader(root, logical);
                int count = root.getRowCount();
                synchronized (context.getCheckpointLock()) {
                    for (int i = 0; i < count && running; i++) {
                        context.collect(rows.read(i));
                    }
                }
                rowsEmitted += count;
            }
        }
        if (timingPath != null && !timingPath.isEmpty()) {
            long wall = System.nanoTime() - startWall;
            long cpu = processCpuNanos() - startCpu;
            writeTiming(rowsEmitted + " " + wall + " " + cpu + "\n");
        }
    }

    private void writeTiming(String line) throws IOException {
        try (FileWriter out = new FileWriter(timingPath, true)) {
            out.write(line);
        }
    }

    @Override
    public void cancel() {
        running = false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return InternalTypeInfo.of(rowType.getLogicalType());
    }
}
