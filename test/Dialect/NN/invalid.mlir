// RUN: ptxnet-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{'nn.graph' op must have exactly one result, got 2}}
nn.graph @two_results(%x: tensor<1x3x4x4xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) {
  nn.output %x, %x : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>
}

// -----

// expected-error @+1 {{'nn.graph' op inputs must be statically shaped f32 tensors}}
nn.graph @dynamic(%x: tensor<?x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = nn.weight "w" : tensor<1x3x4x4xf32>
  nn.output %w : tensor<1x3x4x4xf32>
}

// -----

nn.graph @bad_output(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x2x2xf32> {
  // expected-error @+1 {{'nn.output' op result #0 has type 'tensor<1x3x4x4xf32>' but the graph declares 'tensor<1x3x2x2xf32>'}}
  nn.output %x : tensor<1x3x4x4xf32>
}

// -----

nn.graph @empty_name(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{'nn.weight' op needs a non-empty weight name}}
  %w = nn.weight "" : tensor<1x3x4x4xf32>
  nn.output %x : tensor<1x3x4x4xf32>
}

// -----

nn.graph @dynamic_weight(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{'nn.weight' op weight 'w' must be statically shaped}}
  %w = nn.weight "w" : tensor<?x3xf32>
  nn.output %x : tensor<1x3x4x4xf32>
}

// -----

nn.graph @int_weight(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{'nn.weight' op result #0 must be ranked tensor of 32-bit float values}}
  %w = nn.weight "w" : tensor<3xi32>
  nn.output %x : tensor<1x3x4x4xf32>
}

// -----

nn.graph @strides(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op expects 2 strides [sh, sw], got 3}}
  %y = nn.conv2d %x, %w strides = [1, 1, 1] padding = [1, 1, 1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @zero_stride(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op expects positive strides}}
  %y = nn.conv2d %x, %w strides = [0, 1] padding = [1, 1, 1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @padding(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op expects 4 padding values [top, left, bottom, right], got 2}}
  %y = nn.conv2d %x, %w strides = [1, 1] padding = [1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @negative_padding(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op expects non-negative padding}}
  %y = nn.conv2d %x, %w strides = [1, 1] padding = [1, -1, 1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @zero_groups(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op attribute 'groups' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = nn.conv2d %x, %w strides = [1, 1] padding = [1, 1, 1, 1] groups = 0 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @groups_input(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op input channels (3) are not divisible by groups (2)}}
  %y = nn.conv2d %x, %w strides = [1, 1] padding = [1, 1, 1, 1] groups = 2 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @groups_output(%x: tensor<1x4x8x8xf32>) -> tensor<1x3x8x8xf32> {
  %w = nn.weight "w" : tensor<3x2x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op output channels (3) are not divisible by groups (2)}}
  %y = nn.conv2d %x, %w strides = [1, 1] padding = [1, 1, 1, 1] groups = 2 : tensor<1x4x8x8xf32>, tensor<3x2x3x3xf32> -> tensor<1x3x8x8xf32>
  nn.output %y : tensor<1x3x8x8xf32>
}

// -----

nn.graph @filter_channels(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x2x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op filter expects 2 input channels per group but the input has 3 channels in 1 groups}}
  %y = nn.conv2d %x, %w strides = [1, 1] padding = [1, 1, 1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @bias_size(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  %b = nn.weight "b" : tensor<5xf32>
  // expected-error @+1 {{'nn.conv2d' op bias has 5 elements but the filter has 4 output channels}}
  %y = nn.conv2d %x, %w, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<5xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @window(%x: tensor<1x3x2x2xf32>) -> tensor<1x4x1x1xf32> {
  %w = nn.weight "w" : tensor<4x3x5x5xf32>
  // expected-error @+1 {{'nn.conv2d' op the 5x5 window does not fit the padded 2x2 input}}
  %y = nn.conv2d %x, %w strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x3x2x2xf32>, tensor<4x3x5x5xf32> -> tensor<1x4x1x1xf32>
  nn.output %y : tensor<1x4x1x1xf32>
}

// -----

nn.graph @conv_result(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op result shape should be [1, 4, 4, 4], got 'tensor<1x4x8x8xf32>'}}
  %y = nn.conv2d %x, %w strides = [2, 2] padding = [1, 1, 1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @fused_conv_result(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  %b = nn.weight "b" : tensor<4xf32>
  // expected-error @+1 {{'nn.fused_conv2d' op result shape should be [1, 4, 6, 6], got 'tensor<1x4x8x8xf32>'}}
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @fused_conv_bias(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  %b = nn.weight "b" : tensor<3xf32>
  // expected-error @+1 {{'nn.fused_conv2d' op bias has 3 elements but the filter has 4 output channels}}
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 1 activation = relu : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @pooled_shape(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x1x1xf32>
  %b = nn.weight "b" : tensor<4xf32>
  // expected-error @+1 {{'nn.fused_conv2d' op result shape should be [1, 4, 1, 1], got 'tensor<1x4x8x8xf32>'}}
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<1x3x8x8xf32>, tensor<4x3x1x1xf32>, tensor<4xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @expand_dw_filter(%x: tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %we = nn.weight "e" : tensor<8x4x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %wd = nn.weight "d" : tensor<8x2x3x3xf32>
  // expected-error @+1 {{'nn.fused_expand_depthwise' op depthwise filter must be 8x1xKHxKW, got 'tensor<8x2x3x3xf32>'}}
  %y = nn.fused_expand_depthwise %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>, tensor<8x2x3x3xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  nn.output %y : tensor<1x8x8x8xf32>
}

// -----

nn.graph @expand_dw_expand(%x: tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %we = nn.weight "e" : tensor<8x3x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %wd = nn.weight "d" : tensor<8x1x3x3xf32>
  // expected-error @+1 {{'nn.fused_expand_depthwise' op expand filter must be <hidden>x4x1x1, got 'tensor<8x3x1x1xf32>'}}
  %y = nn.fused_expand_depthwise %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x4x8x8xf32>, tensor<8x3x1x1xf32>, tensor<8x1x3x3xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  nn.output %y : tensor<1x8x8x8xf32>
}

// -----

nn.graph @expand_dw_result(%x: tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %we = nn.weight "e" : tensor<8x4x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %wd = nn.weight "d" : tensor<8x1x3x3xf32>
  // expected-error @+1 {{'nn.fused_expand_depthwise' op result shape should be [1, 8, 4, 4], got 'tensor<1x8x8x8xf32>'}}
  %y = nn.fused_expand_depthwise %x, %we, %b expand_activation = relu6, %wd, %b strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>, tensor<8x1x3x3xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  nn.output %y : tensor<1x8x8x8xf32>
}

// -----

nn.graph @mbconv_project_filter(%x: tensor<1x4x8x8xf32>) -> tensor<1x6x8x8xf32> {
  %we = nn.weight "e" : tensor<8x4x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %wd = nn.weight "d" : tensor<8x1x3x3xf32>
  %wp = nn.weight "p" : tensor<6x4x1x1xf32>
  %bp = nn.weight "bp" : tensor<6xf32>
  // expected-error @+1 {{'nn.fused_mbconv' op project filter must be <out>x8x1x1, got 'tensor<6x4x1x1xf32>'}}
  %y = nn.fused_mbconv %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6, %wp, %bp project_activation = none : tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>, tensor<6x4x1x1xf32>, tensor<6xf32> -> tensor<1x6x8x8xf32>
  nn.output %y : tensor<1x6x8x8xf32>
}

// -----

nn.graph @mbconv_project_bias(%x: tensor<1x4x8x8xf32>) -> tensor<1x6x8x8xf32> {
  %we = nn.weight "e" : tensor<8x4x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %wd = nn.weight "d" : tensor<8x1x3x3xf32>
  %wp = nn.weight "p" : tensor<6x8x1x1xf32>
  // expected-error @+1 {{'nn.fused_mbconv' op project bias has 8 elements, expected 6}}
  %y = nn.fused_mbconv %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6, %wp, %b project_activation = none : tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>, tensor<6x8x1x1xf32>, tensor<8xf32> -> tensor<1x6x8x8xf32>
  nn.output %y : tensor<1x6x8x8xf32>
}

// -----

nn.graph @mbconv_result(%x: tensor<1x4x8x8xf32>) -> tensor<1x6x8x8xf32> {
  %we = nn.weight "e" : tensor<8x4x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %wd = nn.weight "d" : tensor<8x1x3x3xf32>
  %wp = nn.weight "p" : tensor<6x8x1x1xf32>
  %bp = nn.weight "bp" : tensor<6xf32>
  // expected-error @+1 {{'nn.fused_mbconv' op result shape should be [1, 6, 4, 4], got 'tensor<1x6x8x8xf32>'}}
  %y = nn.fused_mbconv %x, %we, %b expand_activation = relu6, %wd, %b strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6, %wp, %bp project_activation = none : tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>, tensor<6x8x1x1xf32>, tensor<6xf32> -> tensor<1x6x8x8xf32>
  nn.output %y : tensor<1x6x8x8xf32>
}

// -----

nn.graph @mbconv_expand(%x: tensor<1x4x8x8xf32>) -> tensor<1x6x8x8xf32> {
  %we = nn.weight "e" : tensor<8x3x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %wd = nn.weight "d" : tensor<8x1x3x3xf32>
  %wp = nn.weight "p" : tensor<6x8x1x1xf32>
  %bp = nn.weight "bp" : tensor<6xf32>
  // expected-error @+1 {{'nn.fused_mbconv' op expand filter must be <hidden>x4x1x1, got 'tensor<8x3x1x1xf32>'}}
  %y = nn.fused_mbconv %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6, %wp, %bp project_activation = none : tensor<1x4x8x8xf32>, tensor<8x3x1x1xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>, tensor<6x8x1x1xf32>, tensor<6xf32> -> tensor<1x6x8x8xf32>
  nn.output %y : tensor<1x6x8x8xf32>
}

// -----

nn.graph @activation_keyword(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  %b = nn.weight "b" : tensor<4xf32>
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'activation' [none, relu, relu6]}}
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 1 activation = gelu : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// -----

nn.graph @bn_channels(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  %p = nn.weight "p" : tensor<4xf32>
  // expected-error @+1 {{'nn.batch_norm' op scale has 4 elements, expected 3 (one per channel)}}
  %y = nn.batch_norm %x, %p, %p, %p, %p epsilon = 1.0e-05 : tensor<1x3x8x8xf32>, tensor<4xf32> -> tensor<1x3x8x8xf32>
  nn.output %y : tensor<1x3x8x8xf32>
}

// -----

nn.graph @bn_result(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  %p = nn.weight "p" : tensor<3xf32>
  // expected-error @+1 {{'nn.batch_norm' op result type 'tensor<1x3x4x4xf32>' differs from the input type 'tensor<1x3x8x8xf32>'}}
  %y = nn.batch_norm %x, %p, %p, %p, %p epsilon = 1.0e-05 : tensor<1x3x8x8xf32>, tensor<3xf32> -> tensor<1x3x4x4xf32>
  nn.output %y : tensor<1x3x4x4xf32>
}

// -----

nn.graph @bn_epsilon(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  %p = nn.weight "p" : tensor<3xf32>
  // expected-error @+1 {{'nn.batch_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %y = nn.batch_norm %x, %p, %p, %p, %p epsilon = 0.0 : tensor<1x3x8x8xf32>, tensor<3xf32> -> tensor<1x3x8x8xf32>
  nn.output %y : tensor<1x3x8x8xf32>
}

// -----

nn.graph @relu_type(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{'nn.relu6' op result #0 must be ranked tensor of 32-bit float values, but got 'tensor<1x3x8x8xf16>'}}
  %y = "nn.relu6"(%x) : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf16>
  nn.output %x : tensor<1x3x8x8xf32>
}

// -----

nn.graph @add_shapes(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  %w = nn.weight "w" : tensor<1x3x4x4xf32>
  // expected-error @+1 {{'nn.add' op requires the same type for all operands and results}}
  %y = "nn.add"(%x, %w) : (tensor<1x3x8x8xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x8x8xf32>
  nn.output %y : tensor<1x3x8x8xf32>
}

// -----

nn.graph @pool(%x: tensor<2x3x8x8xf32>) -> tensor<2x3x2x2xf32> {
  // expected-error @+1 {{'nn.global_avg_pool' op result must be 2x3x1x1, got 'tensor<2x3x2x2xf32>'}}
  %y = nn.global_avg_pool %x : tensor<2x3x8x8xf32> -> tensor<2x3x2x2xf32>
  nn.output %y : tensor<2x3x2x2xf32>
}

// -----

nn.graph @flatten(%x: tensor<2x3x2x2xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'nn.flatten' op result must be 2x12, got 'tensor<2x6xf32>'}}
  %y = nn.flatten %x : tensor<2x3x2x2xf32> -> tensor<2x6xf32>
  nn.output %y : tensor<2x6xf32>
}

// -----

nn.graph @linear_k(%x: tensor<2x6xf32>) -> tensor<2x4xf32> {
  %w = nn.weight "w" : tensor<4x5xf32>
  // expected-error @+1 {{'nn.linear' op weight expects 5 input features but the input has 6}}
  %y = nn.linear %x, %w : tensor<2x6xf32>, tensor<4x5xf32> -> tensor<2x4xf32>
  nn.output %y : tensor<2x4xf32>
}

// -----

nn.graph @linear_bias(%x: tensor<2x6xf32>) -> tensor<2x4xf32> {
  %w = nn.weight "w" : tensor<4x6xf32>
  %b = nn.weight "b" : tensor<3xf32>
  // expected-error @+1 {{'nn.linear' op bias has 3 elements but the weight has 4 output features}}
  %y = nn.linear %x, %w, %b : tensor<2x6xf32>, tensor<4x6xf32>, tensor<3xf32> -> tensor<2x4xf32>
  nn.output %y : tensor<2x4xf32>
}

// -----

nn.graph @linear_result(%x: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %w = nn.weight "w" : tensor<4x6xf32>
  // expected-error @+1 {{'nn.linear' op result must be 2x4, got 'tensor<3x4xf32>'}}
  %y = nn.linear %x, %w : tensor<2x6xf32>, tensor<4x6xf32> -> tensor<3x4xf32>
  nn.output %y : tensor<3x4xf32>
}

// -----

nn.graph @fused_linear_pool(%x: tensor<2x6xf32>) -> tensor<2x4xf32> {
  %w = nn.weight "w" : tensor<4x6xf32>
  %b = nn.weight "b" : tensor<4xf32>
  // expected-error @+1 {{'nn.fused_linear' op global_avg_pool prologue needs an N x C x H x W input, got 'tensor<2x6xf32>'}}
  %y = nn.fused_linear %x, %w, %b prologue = global_avg_pool activation = none : tensor<2x6xf32>, tensor<4x6xf32>, tensor<4xf32> -> tensor<2x4xf32>
  nn.output %y : tensor<2x4xf32>
}

// -----

nn.graph @fused_linear_k(%x: tensor<2x6x3x3xf32>) -> tensor<2x4xf32> {
  %w = nn.weight "w" : tensor<4x6xf32>
  %b = nn.weight "b" : tensor<4xf32>
  // Flatten reads 6 * 3 * 3 = 54 features.
  // expected-error @+1 {{'nn.fused_linear' op weight expects 6 input features but the input has 54}}
  %y = nn.fused_linear %x, %w, %b prologue = flatten activation = none : tensor<2x6x3x3xf32>, tensor<4x6xf32>, tensor<4xf32> -> tensor<2x4xf32>
  nn.output %y : tensor<2x4xf32>
}

// -----

nn.graph @fold_filter(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  %p = nn.weight "p" : tensor<3xf32>
  // expected-error @+1 {{'nn.bn_fold_filter' op scale has 3 elements, expected 4 (one per channel)}}
  %f = nn.bn_fold_filter %w, %p, %p epsilon = 1.0e-05 : tensor<4x3x3x3xf32>, tensor<3xf32> -> tensor<4x3x3x3xf32>
  nn.output %x : tensor<1x3x8x8xf32>
}

// -----

nn.graph @fold_bias(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  %b = nn.weight "b" : tensor<4xf32>
  %p = nn.weight "p" : tensor<3xf32>
  // expected-error @+1 {{'nn.bn_fold_bias' op bias type 'tensor<4xf32>' differs from the scale type 'tensor<3xf32>'}}
  %f = nn.bn_fold_bias bias(%b : tensor<4xf32>) %p, %p, %p, %p epsilon = 1.0e-05 : tensor<3xf32> -> tensor<3xf32>
  nn.output %x : tensor<1x3x8x8xf32>
}

// -----

nn.graph @fold_bias_result(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  %p = nn.weight "p" : tensor<3xf32>
  // expected-error @+1 {{'nn.bn_fold_bias' op result type must equal the scale type 'tensor<3xf32>'}}
  %f = nn.bn_fold_bias %p, %p, %p, %p epsilon = 1.0e-05 : tensor<3xf32> -> tensor<4xf32>
  nn.output %x : tensor<1x3x8x8xf32>
}

// -----

// expected-error @+1 {{'nn.output' op expects parent op 'nn.graph'}}
nn.output
