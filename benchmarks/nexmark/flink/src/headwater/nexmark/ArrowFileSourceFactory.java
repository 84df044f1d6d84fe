package headwater.nexmark;

import java.util.Collections;
import java.util.Set;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;

/**
 * A Flink SQL table source over one Arrow IPC stream file: {@code 'connector' = 'headwater-arrow-file'},
 * {@code 'path' = '/abs/file.arrows'}.
 *
 * <p>PyPI's apache-flink ships no Parquet format, so the benchmark gives Flink the same events as an
 * Arrow file and reads it the way Flink reads columnar data: whole batches into Arrow vectors, rows handed
 * on as {@code ColumnarRowData} views over them (Flink's own {@code ArrowReader}), no per-value parsing.
 */
public final class ArrowFileSourceFactory implements DynamicTableSourceFactory {

    public static final ConfigOption<String> PATH =
            ConfigOptions.key("path").stringType().noDefaultValue().withDescription("the Arrow stream file");

    @Override
    public String factoryIdentifier() {
        return "headwater-arrow-file";
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Collections.singleton(PATH);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Collections.emptySet();
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validate();
        return new ArrowFileTableSource(context.getPhysicalRowDataType(), helper.getOptions().get(PATH));
    }
}
